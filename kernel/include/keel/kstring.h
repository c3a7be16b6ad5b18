/* The C string functions Keel provides itself (kernel/core/string.c).
 * Prototypes match the standard ones, so host-built tests link libc's. */
#ifndef KEEL_KSTRING_H
#define KEEL_KSTRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
