/* Unit tests for the AML encoder (kernel/vdev/aml.c). Expected bytes are
 * written out by hand from the ACPI 6.x specification, section 20.2 (AML
 * grammar) and 6.4 (resource descriptors), not taken from the encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vdev/aml.h"

#define BUF_SIZE 8192
#define CANARY 0xA5

static uint8_t buf[BUF_SIZE];
static struct aml a;

static int setup(void **state)
{
	(void)state;
	memset(buf, CANARY, sizeof(buf));
	aml_init(&a, buf, sizeof(buf));
	return 0;
}

static void expect(const uint8_t *want, size_t n)
{
	assert_int_equal(aml_status(&a), ST_OK);
	assert_int_equal(aml_len(&a), n);
	assert_memory_equal(buf, want, n);
}

#define EXPECT(...)                                                                                \
	do {                                                                                       \
		static const uint8_t want_[] = {__VA_ARGS__};                                      \
		expect(want_, sizeof(want_));                                                      \
	} while (0)

/* ---- PkgLength ---- */

static void test_pkglen_encode_boundaries(void **state)
{
	(void)state;
	uint8_t o[AML_PKGLEN_MAX_BYTES];

	assert_int_equal(aml_pkglen_encode(0, o), 1);
	assert_int_equal(aml_pkglen_encode(63, o), 1);
	assert_int_equal(o[0], 0x3F);
	/* 64: two bytes, count 1 in bits 7-6, low nibble 0, then 64 >> 4 = 4. */
	assert_int_equal(aml_pkglen_encode(64, o), 2);
	assert_int_equal(o[0], 0x40);
	assert_int_equal(o[1], 0x04);
	assert_int_equal(aml_pkglen_encode(4095, o), 2);
	assert_int_equal(o[0], 0x4F);
	assert_int_equal(o[1], 0xFF);
	assert_int_equal(aml_pkglen_encode(4096, o), 3);
	assert_int_equal(o[0], 0x80);
	assert_int_equal(o[1], 0x00);
	assert_int_equal(o[2], 0x01);
	assert_int_equal(aml_pkglen_encode(0xFFFFF, o), 3);
	assert_int_equal(o[0], 0x8F);
	assert_int_equal(o[1], 0xFF);
	assert_int_equal(o[2], 0xFF);
	assert_int_equal(aml_pkglen_encode(0x100000, o), 4);
	assert_int_equal(o[0], 0xC0);
	assert_int_equal(o[3], 0x01);
	assert_int_equal(aml_pkglen_encode(AML_PKGLEN_MAX, o), 4);
	assert_int_equal(o[0], 0xCF);
	assert_int_equal(o[1], 0xFF);
	assert_int_equal(o[2], 0xFF);
	assert_int_equal(o[3], 0xFF);
	assert_int_equal(aml_pkglen_encode(AML_PKGLEN_MAX + 1, o), 0);
}

/* A Scope with n bytes of body after its name; returns the PkgLength
 * value the encoder wrote, decoded by hand. */
static uint32_t scope_with_body(size_t n, unsigned *nbytes)
{
	static uint8_t body[BUF_SIZE];
	struct aml_pkg p;
	uint32_t v;

	aml_init(&a, buf, sizeof(buf));
	p = aml_scope(&a, "ABCD");
	aml_bytes(&a, body, n);
	aml_end(&a, p);
	assert_int_equal(aml_status(&a), ST_OK);
	assert_int_equal(buf[0], 0x10);
	*nbytes = 1u + (buf[1] >> 6);
	if (*nbytes == 1)
		v = buf[1] & 0x3F;
	else {
		v = buf[1] & 0x0F;
		for (unsigned i = 1; i < *nbytes; i++)
			v |= (uint32_t)buf[1 + i] << (4 + 8 * (i - 1));
	}
	/* The name follows the PkgLength, the whole term is op + PkgLength. */
	assert_memory_equal(buf + 1 + *nbytes, "ABCD", 4);
	assert_int_equal(aml_len(&a), 1 + v);
	return v;
}

static void test_pkglen_counts_itself(void **state)
{
	(void)state;
	unsigned nb;

	/* name (4) + 58 = 62 content: 63 with the one PkgLength byte. */
	assert_int_equal(scope_with_body(58, &nb), 63);
	assert_int_equal(nb, 1);
	/* One more byte: 64 does not fit 6 bits, so two bytes: 65. */
	assert_int_equal(scope_with_body(59, &nb), 65);
	assert_int_equal(nb, 2);
	/* 4093 content + 2 = 4095, the largest two-byte value. */
	assert_int_equal(scope_with_body(4089, &nb), 4095);
	assert_int_equal(nb, 2);
	/* 4094 content: 4096 needs three bytes, so 4097. */
	assert_int_equal(scope_with_body(4090, &nb), 4097);
	assert_int_equal(nb, 3);
}

/* ---- names ---- */

static void test_name_seg_padded(void **state)
{
	(void)state;
	aml_name_string(&a, "_S5");
	EXPECT('_', 'S', '5', '_');
}

static void test_name_root_and_dual(void **state)
{
	(void)state;
	aml_name_string(&a, "\\_SB.PCI0");
	EXPECT(0x5C, 0x2E, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
}

static void test_name_multi(void **state)
{
	(void)state;
	aml_name_string(&a, "\\_SB.PCI0.S08.A");
	EXPECT(0x5C, 0x2F, 4, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'S', '0', '8', '_', 'A', '_',
	       '_', '_');
}

static void test_name_parent_prefixes(void **state)
{
	(void)state;
	aml_name_string(&a, "^^FOO");
	EXPECT(0x5E, 0x5E, 'F', 'O', 'O', '_');
}

static void test_name_root_alone(void **state)
{
	(void)state;
	aml_name_string(&a, "\\");
	EXPECT(0x5C, 0x00);
}

static void test_name_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "", "1ABC", "ABCDE", "A..B", "AB.", ".AB", "abc", "\\\\A", "^\\A", "A-B",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_name_string(&a, bad[i]);
		assert_int_equal(aml_status(&a), ST_EINVAL);
	}
	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, NULL);
	assert_int_equal(aml_status(&a), ST_EINVAL);
}

/* ---- data objects ---- */

static void test_integers_smallest(void **state)
{
	(void)state;
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0xFF);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0xFFFF);
	aml_integer(&a, 0x10000);
	aml_integer(&a, 0xFFFFFFFF);
	aml_integer(&a, 0x100000000ull);
	aml_integer(&a, UINT64_MAX);
	EXPECT(0x00, 0x01, 0x0A, 0x02, 0x0A, 0xFF, 0x0B, 0x00, 0x01, 0x0B, 0xFF, 0xFF, 0x0C, 0x00,
	       0x00, 0x01, 0x00, 0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x01,
	       0x00, 0x00, 0x00, 0x0E, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF);
}

static void test_string(void **state)
{
	(void)state;
	aml_string(&a, "Keel");
	aml_string(&a, "");
	EXPECT(0x0D, 'K', 'e', 'e', 'l', 0x00, 0x0D, 0x00);
}

static void test_string_rejects_non_ascii(void **state)
{
	(void)state;
	aml_string(&a, "caf\xC3\xA9");
	assert_int_equal(aml_status(&a), ST_EINVAL);
	assert_int_equal(aml_len(&a), 0);
}

static void test_eisaid(void **state)
{
	(void)state;
	uint32_t v = 0;

	assert_int_equal(aml_eisaid_value("PNP0A08", &v), ST_OK);
	assert_int_equal(v, 0x080AD041);
	assert_int_equal(aml_eisaid_value("PNP0A03", &v), ST_OK);
	assert_int_equal(v, 0x030AD041);
	assert_int_equal(aml_eisaid_value("PNP0C02", &v), ST_OK);
	assert_int_equal(v, 0x020CD041);
	/* Z = 26 in every letter: 11010 11010 11010 -> 0x6B5A; digits FFFF. */
	assert_int_equal(aml_eisaid_value("ZZZFFFF", &v), ST_OK);
	assert_int_equal(v, 0xFFFF5A6B);

	static const char *const bad[] = {"PNP0A0",  "PNP0A080", "pNP0A08", "PNP0G08",
					  "P1P0A08", "PNP0a08",	 ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(aml_eisaid_value(bad[i], &v), ST_EINVAL);
	assert_int_equal(aml_eisaid_value(NULL, &v), ST_EINVAL);

	/* Emitted as a DWordConst, as ASL's EISAID() is. */
	aml_eisaid(&a, "PNP0A08");
	EXPECT(0x0C, 0x41, 0xD0, 0x0A, 0x08);
}

static void test_name_and_package(void **state)
{
	(void)state;
	struct aml_pkg p;

	aml_name(&a, "\\_S5");
	p = aml_package(&a, 4);
	aml_integer(&a, 5);
	aml_integer(&a, 5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_end(&a, p);
	/* Package content: NumElements + 2 + 2 + 1 + 1 = 7, plus PkgLength = 8. */
	EXPECT(0x08, 0x5C, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00,
	       0x00);
}

static void test_buffer(void **state)
{
	(void)state;
	struct aml_pkg p = aml_buffer(&a);

	aml_bytes(&a, "\x01\x02\x03", 3);
	aml_end(&a, p);
	/* BufferOp PkgLength(1 + 2 + 3 = 6) BufferSize(ByteConst 3) bytes. */
	EXPECT(0x11, 0x06, 0x0A, 0x03, 0x01, 0x02, 0x03);
}

static void test_empty_buffer(void **state)
{
	(void)state;
	aml_end(&a, aml_buffer(&a));
	EXPECT(0x11, 0x02, 0x00);
}

static void test_big_buffer(void **state)
{
	(void)state;
	static uint8_t data[300];
	struct aml_pkg p = aml_buffer(&a);

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	aml_bytes(&a, data, sizeof(data));
	aml_end(&a, p);
	assert_int_equal(aml_status(&a), ST_OK);
	/* 300 bytes + WordConst (3) = 303 + 2 PkgLength bytes = 305 = 0x131. */
	assert_int_equal(buf[0], 0x11);
	assert_int_equal(buf[1], 0x41);
	assert_int_equal(buf[2], 0x13);
	assert_int_equal(buf[3], 0x0B);
	assert_int_equal(buf[4], 0x2C);
	assert_int_equal(buf[5], 0x01);
	assert_memory_equal(buf + 6, data, sizeof(data));
	assert_int_equal(aml_len(&a), 306);
}

static void test_scope_device_method(void **state)
{
	(void)state;
	struct aml_pkg s, d, m;

	s = aml_scope(&a, "\\_SB");
	d = aml_device(&a, "DEV0");
	m = aml_method(&a, "_STA", 0, false);
	aml_return_integer(&a, 0x0F);
	aml_end(&a, m);
	m = aml_method(&a, "FOO", 2, true);
	aml_return_name(&a, "^BAR");
	aml_end(&a, m);
	aml_end(&a, d);
	aml_end(&a, s);
	EXPECT(0x10, 0x24, 0x5C, '_', 'S', 'B', '_',		       /* Scope, 36 */
	       0x5B, 0x82, 0x1C, 'D', 'E', 'V', '0',		       /* Device, 28 */
	       0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xA4, 0x0A, 0x0F, /* Method, 9 */
	       0x14, 0x0C, 'F', 'O', 'O', '_', 0x0A, 0xA4, 0x5E, 'B', 'A', 'R', '_');
}

static void test_method_bad_args(void **state)
{
	(void)state;
	aml_method(&a, "_FOO", AML_MAX_ARGS + 1, false);
	assert_int_equal(aml_status(&a), ST_EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_package(&a, 256);
	assert_int_equal(aml_status(&a), ST_EINVAL);
}

/* ---- resource descriptors ---- */

static void test_resource_template(void **state)
{
	(void)state;
	struct aml_pkg p = aml_buffer(&a);

	aml_rt_word_bus_number(&a, 0, 0xFF);
	aml_rt_io(&a, 0xCF8, 0xCF8, 1, 8);
	aml_rt_word_io(&a, 0x0D00, 0xFFFF);
	aml_rt_dword_memory(&a, AML_RT_PRODUCER, 0xC0000000, 0xFEBFFFFF);
	aml_rt_qword_memory(&a, AML_RT_CONSUMER, 0x8000000000ull, 0xFFFFFFFFFFull);
	aml_rt_end_tag(&a);
	aml_end(&a, p);
	/* 16 + 8 + 16 + 26 + 46 + 2 = 114 bytes of descriptors. */
	EXPECT(0x11, 0x46, 0x07, 0x0A, 0x72,
	       /* WordBusNumber: producer, MinFixed|MaxFixed */
	       0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00,
	       0x00, 0x01,
	       /* IO Decode16 */
	       0x47, 0x01, 0xF8, 0x0C, 0xF8, 0x0C, 0x01, 0x08,
	       /* WordIO, EntireRange */
	       0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0x00, 0x00, 0x00, 0x0D, 0xFF, 0xFF, 0x00, 0x00,
	       0x00, 0xF3,
	       /* DWordMemory, NonCacheable ReadWrite */
	       0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0,
	       0xFF, 0xFF, 0xBF, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x3E,
	       /* QWordMemory, consumer */
	       0x8A, 0x2B, 0x00, 0x00, 0x0D, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00,
	       0x80, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0, 0, 0, 0,
	       0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
	       /* EndTag */
	       0x79, 0x00);
}

static void test_resource_bad_ranges(void **state)
{
	(void)state;
	aml_rt_word_io(&a, 0x100, 0xFF);
	assert_int_equal(aml_status(&a), ST_EINVAL);
	/* The length of a full 16-bit range does not fit a Word. */
	aml_init(&a, buf, sizeof(buf));
	aml_rt_word_io(&a, 0, 0xFFFF);
	assert_int_equal(aml_status(&a), ST_EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_rt_dword_memory(&a, AML_RT_PRODUCER, 0, 0xFFFFFFFF);
	assert_int_equal(aml_status(&a), ST_EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_rt_qword_memory(&a, AML_RT_PRODUCER, 2, 1);
	assert_int_equal(aml_status(&a), ST_EINVAL);
	assert_int_equal(aml_len(&a), 0);
}

/* ---- bounds ---- */

/* Builds a small DSDT body into a buffer of every size up to what it
 * needs: each too-small size must fail with ST_ERANGE and never write past
 * its end; the exact size must succeed. */
static size_t build_sample(struct aml *b)
{
	struct aml_pkg s, d, r;

	s = aml_scope(b, "\\_SB");
	d = aml_device(b, "PCI0");
	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0A08");
	aml_name(b, "_CRS");
	r = aml_buffer(b);
	aml_rt_word_bus_number(b, 0, 0xFF);
	aml_rt_end_tag(b);
	aml_end(b, r);
	aml_end(b, d);
	aml_end(b, s);
	return aml_len(b);
}

static void test_overflow_never_writes_past_end(void **state)
{
	(void)state;
	struct aml full;
	size_t need;

	aml_init(&full, buf, sizeof(buf));
	need = build_sample(&full);
	assert_int_equal(aml_status(&full), ST_OK);
	for (size_t cap = 0; cap <= need + 1; cap++) {
		/* An exact-size heap block: ASan reports any byte past it. */
		uint8_t *p = malloc(cap ? cap : 1);
		struct aml b;

		aml_init(&b, p, cap);
		build_sample(&b);
		if (cap < need) {
			assert_int_equal(aml_status(&b), ST_ERANGE);
			assert_true(aml_len(&b) <= cap);
		} else {
			assert_int_equal(aml_status(&b), ST_OK);
			assert_int_equal(aml_len(&b), need);
			assert_memory_equal(p, buf, need);
		}
		free(p);
	}
}

static void test_errors_are_sticky(void **state)
{
	(void)state;
	aml_init(&a, buf, 2);
	aml_integer(&a, 0x1234); /* needs 3 bytes */
	assert_int_equal(aml_status(&a), ST_ERANGE);
	aml_byte(&a, 0x42); /* would fit, but the builder has failed */
	assert_int_equal(aml_len(&a), 0);
	assert_int_equal(buf[0], CANARY);
	aml_name_string(&a, "bad!");
	assert_int_equal(aml_status(&a), ST_ERANGE); /* the first error stays */
}

static void test_null_buffer(void **state)
{
	(void)state;
	aml_init(&a, NULL, 16);
	assert_int_equal(aml_status(&a), ST_EINVAL);
	aml_init(&a, NULL, 0);
	aml_byte(&a, 1);
	assert_int_equal(aml_status(&a), ST_ERANGE);
}

static void test_end_with_foreign_mark(void **state)
{
	(void)state;
	struct aml_pkg p = {.pkglen_at = 100, .sized = false};

	aml_byte(&a, 0);
	aml_end(&a, p);
	assert_int_equal(aml_status(&a), ST_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_pkglen_encode_boundaries, setup),
	    cmocka_unit_test_setup(test_pkglen_counts_itself, setup),
	    cmocka_unit_test_setup(test_name_seg_padded, setup),
	    cmocka_unit_test_setup(test_name_root_and_dual, setup),
	    cmocka_unit_test_setup(test_name_multi, setup),
	    cmocka_unit_test_setup(test_name_parent_prefixes, setup),
	    cmocka_unit_test_setup(test_name_root_alone, setup),
	    cmocka_unit_test_setup(test_name_invalid, setup),
	    cmocka_unit_test_setup(test_integers_smallest, setup),
	    cmocka_unit_test_setup(test_string, setup),
	    cmocka_unit_test_setup(test_string_rejects_non_ascii, setup),
	    cmocka_unit_test_setup(test_eisaid, setup),
	    cmocka_unit_test_setup(test_name_and_package, setup),
	    cmocka_unit_test_setup(test_buffer, setup),
	    cmocka_unit_test_setup(test_empty_buffer, setup),
	    cmocka_unit_test_setup(test_big_buffer, setup),
	    cmocka_unit_test_setup(test_scope_device_method, setup),
	    cmocka_unit_test_setup(test_method_bad_args, setup),
	    cmocka_unit_test_setup(test_resource_template, setup),
	    cmocka_unit_test_setup(test_resource_bad_ranges, setup),
	    cmocka_unit_test_setup(test_overflow_never_writes_past_end, setup),
	    cmocka_unit_test_setup(test_errors_are_sticky, setup),
	    cmocka_unit_test_setup(test_null_buffer, setup),
	    cmocka_unit_test_setup(test_end_with_foreign_mark, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
