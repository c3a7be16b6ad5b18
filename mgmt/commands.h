#ifndef KEEL_MGMT_COMMANDS_H
#define KEEL_MGMT_COMMANDS_H

#include <stddef.h>

#include "mgmt/shell.h"

extern const struct shell_cmd mgmt_commands[];

/* VM commands (vm_commands.c). */
void cmd_vms(const struct shell_io *io, int argc, char **argv);
void cmd_console(const struct shell_io *io, int argc, char **argv);
void cmd_start(const struct shell_io *io, int argc, char **argv);
void cmd_stop(const struct shell_io *io, int argc, char **argv);
void cmd_pause(const struct shell_io *io, int argc, char **argv);
void cmd_shutdown(const struct shell_io *io, int argc, char **argv);
void cmd_resume(const struct shell_io *io, int argc, char **argv);
void cmd_destroy(const struct shell_io *io, int argc, char **argv);
extern const size_t mgmt_ncommands;

#endif
