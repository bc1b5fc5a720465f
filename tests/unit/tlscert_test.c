/* tlscert_test.c: the self-signed certificate of `sipwarden init`, checked
 * with OpenSSL's own APIs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "core/tlscert.h"
#include "lib/util.h"

enum { DAYS = 365, FILE_MAX = 65536, ERR_MAX = 512 };

struct fixture {
	char dir[64];
	char cert[PATH_MAX];
	char key[PATH_MAX];
};

static int
fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tlscert_test.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	*state = f;
	return 0;
}

/* Removes every file the test left in its folder, then the folder. */
static int
fixture_teardown(void **state)
{
	struct fixture *f = *state;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char p[PATH_MAX];

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Number of entries in dir besides . and .. */
static size_t
dir_count(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	return st.st_mode & 07777;
}

static char *
file_slurp(const char *path, size_t *lenp)
{
	char *buf = NULL;

	assert_int_equal(util_file_read(path, FILE_MAX, &buf, lenp), 0);
	return buf;
}

static X509 *
cert_load(const char *path)
{
	FILE *fp = fopen(path, "r");
	X509 *x;

	assert_non_null(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *
key_load(const char *path)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *k;

	assert_non_null(fp);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(k);
	return k;
}

static void
cert_save(const char *path, X509 *x)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(PEM_write_X509(fp, x), 1);
	assert_int_equal(fclose(fp), 0);
}

/* The one subjectAltName entry of x, checked to be of type `type`. */
static void
san_check(X509 *x, int type, const void *value, size_t len)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *gn;
	const ASN1_STRING *s;
	int crit = -1;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	assert_non_null(gens);
	assert_int_equal(crit, 0);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
	gn = sk_GENERAL_NAME_value(gens, 0);
	assert_int_equal(gn->type, type);
	s = type == GEN_DNS ? gn->d.dNSName : gn->d.iPAddress;
	assert_int_equal((size_t)ASN1_STRING_length(s), len);
	assert_memory_equal(ASN1_STRING_get0_data(s), value, len);
	GENERAL_NAMES_free(gens);
}

static void
cn_check(X509 *x, const char *host)
{
	X509_NAME *name = X509_get_subject_name(x);
	const ASN1_STRING *s;
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

	assert_true(i >= 0);
	assert_int_equal(
	    X509_NAME_get_index_by_NID(name, NID_commonName, i), -1);
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	assert_int_equal((size_t)ASN1_STRING_length(s), strlen(host));
	assert_memory_equal(ASN1_STRING_get0_data(s), host, strlen(host));
	assert_int_equal(X509_NAME_cmp(name, X509_get_issuer_name(x)), 0);
	assert_int_equal(X509_NAME_entry_count(name), 1);
}

/* `openssl verify -CAfile cert cert`, in code. */
static void
store_verify(X509 *x)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();

	assert_non_null(st);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(st, x), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, x, NULL), 1);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("verify: %s", X509_verify_cert_error_string(
		                           X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
}

/* Everything about the pair that does not depend on the host. */
static void
pair_check(const struct fixture *f, unsigned days)
{
	X509 *x = cert_load(f->cert);
	EVP_PKEY *k = key_load(f->key);
	char group[64], *pem;
	size_t glen, len;
	int day, sec, crit = -1;
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	BIGNUM *serial;
	int64_t not_after = 0;
	bool self = false;
	struct tm tm;
	time_t now = time(NULL), nb;
	char err[ERR_MAX] = "";

	/* The key: EC P-256, unencrypted PKCS#8, matching the cert. */
	assert_true(EVP_PKEY_is_a(k, "EC"));
	assert_int_equal(
	    EVP_PKEY_get_utf8_string_param(
	        k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen),
	    1);
	assert_string_equal(group, "prime256v1");
	pem = file_slurp(f->key, &len);
	assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));
	assert_null(strstr(pem, "ENCRYPTED"));
	explicit_bzero(pem, len);
	free(pem);
	assert_int_equal(X509_check_private_key(x, k), 1);

	/* Self-signed: its own public key verifies it, issuer = subject. */
	assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	store_verify(x);

	/* A positive random serial of at most 128 bits (more than 64 but
	 * with probability 2^-64). */
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	assert_non_null(serial);
	assert_false(BN_is_negative(serial));
	assert_true(BN_num_bits(serial) <= 128 && BN_num_bits(serial) > 64);
	BN_free(serial);

	/* Validity: from about a minute ago, for exactly `days` days. */
	assert_int_equal(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(x),
	                     X509_get0_notAfter(x)),
	    1);
	assert_int_equal(day, (int)days);
	assert_int_equal(sec, 0);
	memset(&tm, 0, sizeof(tm));
	assert_int_equal(ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm), 1);
	nb = timegm(&tm);
	assert_true(nb <= now - 55 && nb >= now - 70);

	/* Extensions. */
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_int_equal(bc->ca, 0);
	assert_null(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	assert_non_null(ku);
	assert_int_equal(crit, 1);
	ASN1_BIT_STRING_free(ku);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_int_equal(
	    X509_get_extended_key_usage(x), XKU_SSL_SERVER | XKU_SSL_CLIENT);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0), 1);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(X509_get_ext_count(x), 5);

	/* Modes. */
	assert_int_equal(file_mode(f->key), 0600);
	assert_int_equal(file_mode(f->cert), 0644);

	/* tlscert_info agrees. */
	assert_int_equal(
	    tlscert_info(f->cert, &not_after, &self, err, sizeof(err)), 0);
	assert_true(self);
	memset(&tm, 0, sizeof(tm));
	assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm), 1);
	assert_int_equal(not_after, (int64_t)timegm(&tm));
	assert_true(not_after >= (int64_t)now + (int64_t)days * 86400 - 70);
	assert_true(not_after <= (int64_t)now + (int64_t)days * 86400);

	EVP_PKEY_free(k);
	X509_free(x);
}

static void
test_create_dns(void **state)
{
	struct fixture *f = *state;
	const char *host = "pbx.example.com";
	char err[ERR_MAX] = "";
	X509 *x;

	assert_int_equal(tlscert_selfsigned_create(host, DAYS, f->cert, f->key,
	                     false, err, sizeof(err)),
	    0);
	assert_int_equal(dir_count(f->dir), 2); /* no temporary left */
	pair_check(f, DAYS);
	x = cert_load(f->cert);
	san_check(x, GEN_DNS, host, strlen(host));
	cn_check(x, host);
	assert_int_equal(X509_check_host(x, host, 0, 0, NULL), 1);
	assert_int_equal(
	    X509_check_host(x, "other.example.com", 0, 0, NULL), 0);
	X509_free(x);
}

static void
ip_check(struct fixture *f, const char *host, int af, size_t alen)
{
	unsigned char addr[16];
	char err[ERR_MAX] = "";
	X509 *x;

	assert_int_equal(inet_pton(af, host, addr), 1);
	assert_int_equal(tlscert_selfsigned_create(host, 30, f->cert, f->key,
	                     false, err, sizeof(err)),
	    0);
	pair_check(f, 30);
	x = cert_load(f->cert);
	san_check(x, GEN_IPADD, addr, alen);
	cn_check(x, host);
	assert_int_equal(X509_check_ip_asc(x, host, 0), 1);
	X509_free(x);
}

static void
test_create_ipv4(void **state)
{
	ip_check(*state, "127.0.0.1", AF_INET, 4);
}

static void
test_create_ipv6(void **state)
{
	ip_check(*state, "::1", AF_INET6, 16);
}

/* Names at the limits: a 63-byte label and a 253-byte name pass. */
static void
test_create_limits(void **state)
{
	struct fixture *f = *state;
	char host[TLSCERT_HOST_MAX + 1], err[ERR_MAX] = "";
	X509 *x;

	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	memset(host, 'a', TLSCERT_HOST_MAX);
	host[63] = host[127] = host[191] = '.';
	host[TLSCERT_HOST_MAX] = '\0';
	assert_int_equal(tlscert_selfsigned_create(
	                     host, 1, f->cert, f->key, false, err, sizeof(err)),
	    0);
	pair_check(f, 1);
	x = cert_load(f->cert);
	san_check(x, GEN_DNS, host, strlen(host));
	X509_free(x);
	assert_int_equal(
	    tlscert_selfsigned_create("x-1.Example-2.org", TLSCERT_DAYS_MAX,
	        f->cert, f->key, true, err, sizeof(err)),
	    0);
	pair_check(f, TLSCERT_DAYS_MAX);
	assert_int_equal(tlscert_selfsigned_create("localhost", 1, f->cert,
	                     f->key, true, err, sizeof(err)),
	    0);
}

static void
test_no_overwrite(void **state)
{
	struct fixture *f = *state;
	char err[ERR_MAX] = "", *cert1, *key1, *cert2, *key2;
	size_t clen1, klen1, clen2, klen2;
	X509 *x;
	EVP_PKEY *k;

	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->cert, f->key, false, err, sizeof(err)),
	    0);
	cert1 = file_slurp(f->cert, &clen1);
	key1 = file_slurp(f->key, &klen1);

	/* Refused: both files stay as they were, byte for byte. */
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->cert, f->key, false, err, sizeof(err)),
	    EEXIST);
	assert_non_null(strstr(err, "already exists"));
	assert_non_null(strstr(err, f->key));
	cert2 = file_slurp(f->cert, &clen2);
	key2 = file_slurp(f->key, &klen2);
	assert_int_equal(clen1, clen2);
	assert_int_equal(klen1, klen2);
	assert_memory_equal(cert1, cert2, clen1);
	assert_memory_equal(key1, key2, klen1);
	assert_int_equal(file_mode(f->key), 0600);
	assert_int_equal(dir_count(f->dir), 2);
	free(cert2);
	explicit_bzero(key2, klen2);
	free(key2);

	/* Overwrite: a new pair that still matches. */
	err[0] = '\0';
	assert_int_equal(tlscert_selfsigned_create("pbx2.example.com", 10,
	                     f->cert, f->key, true, err, sizeof(err)),
	    0);
	assert_int_equal(dir_count(f->dir), 2);
	pair_check(f, 10);
	cert2 = file_slurp(f->cert, &clen2);
	key2 = file_slurp(f->key, &klen2);
	assert_false(clen1 == clen2 && memcmp(cert1, cert2, clen1) == 0);
	assert_false(klen1 == klen2 && memcmp(key1, key2, klen1) == 0);
	x = cert_load(f->cert);
	k = key_load(f->key);
	assert_int_equal(X509_check_private_key(x, k), 1);
	cn_check(x, "pbx2.example.com");
	EVP_PKEY_free(k);
	X509_free(x);
	free(cert1);
	free(cert2);
	explicit_bzero(key1, klen1);
	explicit_bzero(key2, klen2);
	free(key1);
	free(key2);
}

/* Only one of the two files exists: refused, and the other is not made. */
static void
test_one_exists(void **state)
{
	struct fixture *f = *state;
	char err[ERR_MAX] = "";

	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->cert, f->key, false, err, sizeof(err)),
	    0);
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->cert, f->key, false, err, sizeof(err)),
	    EEXIST);
	assert_non_null(strstr(err, f->cert));
	assert_int_equal(access(f->key, F_OK), -1);
	assert_int_equal(dir_count(f->dir), 1);

	assert_int_equal(rename(f->cert, f->key), 0);
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->cert, f->key, false, err, sizeof(err)),
	    EEXIST);
	assert_int_equal(access(f->cert, F_OK), -1);
	assert_int_equal(dir_count(f->dir), 1);
}

/* The key is written, then the certificate fails: the key goes too. */
static void
test_cert_write_fails(void **state)
{
	struct fixture *f = *state;
	char cert[PATH_MAX], err[ERR_MAX] = "";

	snprintf(cert, sizeof(cert), "%s/missing/cert.pem", f->dir);
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     cert, f->key, false, err, sizeof(err)),
	    ENOENT);
	assert_non_null(strstr(err, "cannot write"));
	assert_int_equal(access(f->key, F_OK), -1);
	assert_int_equal(dir_count(f->dir), 0);
	/* Same with overwrite. */
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     cert, f->key, true, err, sizeof(err)),
	    ENOENT);
	assert_int_equal(dir_count(f->dir), 0);
	/* And a key that cannot be written leaves no certificate. */
	snprintf(cert, sizeof(cert), "%s/missing/key.pem", f->dir);
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->cert, cert, false, err, sizeof(err)),
	    ENOENT);
	assert_int_equal(dir_count(f->dir), 0);
}

static void
test_bad_hosts(void **state)
{
	struct fixture *f = *state;
	char long_name[301], long_label[70], err[ERR_MAX];
	const char *bad[] = {"-bad.com", "a..b", "", long_name, "ex ample.com",
	    "bad-.com", ".example.com", "example.com.", "ex_ample.com",
	    "exämple.com", "a.b/c", "example.com\n", long_label, "1234",
	    "300.1.1.1", "1.2.3.4.5", "fe80::1%lo", "[::1]", "pbx,DNS:evil.com",
	    "-", "."};
	size_t i;

	memset(long_name, 'a', 300);
	long_name[300] = '\0';
	for (i = 1; i < 300; i += 50)
		long_name[i] = '.';
	memset(long_label, 'b', 64);
	memcpy(long_label + 64, ".com", 5);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		assert_int_equal(tlscert_selfsigned_create(bad[i], DAYS,
		                     f->cert, f->key, false, err, sizeof(err)),
		    EINVAL);
		assert_string_equal(err, "invalid host name");
		assert_int_equal(dir_count(f->dir), 0);
	}
	assert_int_equal(tlscert_selfsigned_create(NULL, DAYS, f->cert, f->key,
	                     false, err, sizeof(err)),
	    EINVAL);
	/* A NULL or short err buffer is fine. */
	assert_int_equal(tlscert_selfsigned_create(
	                     "a..b", DAYS, f->cert, f->key, false, NULL, 0),
	    EINVAL);
	assert_int_equal(tlscert_selfsigned_create(
	                     "a..b", DAYS, f->cert, f->key, false, err, 4),
	    EINVAL);
	assert_string_equal(err, "inv");
	assert_int_equal(dir_count(f->dir), 0);
}

static void
test_bad_args(void **state)
{
	struct fixture *f = *state;
	char err[ERR_MAX] = "";

	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", 0,
	                     f->cert, f->key, false, err, sizeof(err)),
	    EINVAL);
	assert_non_null(strstr(err, "days"));
	assert_int_equal(
	    tlscert_selfsigned_create("pbx.example.com", TLSCERT_DAYS_MAX + 1,
	        f->cert, f->key, false, err, sizeof(err)),
	    EINVAL);
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->key, f->key, true, err, sizeof(err)),
	    EINVAL);
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS, "",
	                     f->key, true, err, sizeof(err)),
	    EINVAL);
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->cert, NULL, true, err, sizeof(err)),
	    EINVAL);
	assert_int_equal(dir_count(f->dir), 0);
}

static void
test_info_errors(void **state)
{
	struct fixture *f = *state;
	char err[ERR_MAX] = "";
	int64_t not_after = 42;
	bool self = true;
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
	                           "-----END CERTIFICATE-----\n";

	assert_int_equal(
	    tlscert_info(f->cert, &not_after, &self, err, sizeof(err)), ENOENT);
	assert_non_null(strstr(err, f->cert));
	assert_int_equal(
	    util_file_write(f->cert, "hello\n", 6, 0644, false), 0);
	assert_int_equal(
	    tlscert_info(f->cert, &not_after, &self, err, sizeof(err)),
	    EBADMSG);
	assert_int_equal(
	    util_file_write(f->cert, junk, sizeof(junk) - 1, 0644, false), 0);
	assert_int_equal(
	    tlscert_info(f->cert, &not_after, &self, err, sizeof(err)),
	    EBADMSG);
	assert_int_equal(util_file_write(f->cert, "", 0, 0644, false), 0);
	assert_int_equal(
	    tlscert_info(f->cert, &not_after, &self, err, sizeof(err)),
	    EBADMSG);
	assert_int_equal(not_after, 42);
	assert_true(self);
	/* The key file is not a certificate either. */
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->cert, f->key, true, err, sizeof(err)),
	    0);
	assert_int_equal(
	    tlscert_info(f->key, &not_after, &self, err, sizeof(err)), EBADMSG);
	/* Both outputs are optional. */
	assert_int_equal(
	    tlscert_info(f->cert, NULL, NULL, err, sizeof(err)), 0);
}

/* A certificate whose signature is not its own key's: not self-signed,
 * whether or not issuer equals subject. */
static void
test_info_not_self_signed(void **state)
{
	struct fixture *f = *state;
	char other_cert[PATH_MAX], other_key[PATH_MAX], err[ERR_MAX] = "";
	X509 *x;
	EVP_PKEY *k;
	X509_NAME *issuer;
	bool self = true;
	int64_t not_after = 0;

	snprintf(other_cert, sizeof(other_cert), "%s/ca.pem", f->dir);
	snprintf(other_key, sizeof(other_key), "%s/ca.key", f->dir);
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->cert, f->key, false, err, sizeof(err)),
	    0);
	assert_int_equal(tlscert_selfsigned_create("ca.example.com", DAYS,
	                     other_cert, other_key, false, err, sizeof(err)),
	    0);
	x = cert_load(f->cert);
	k = key_load(other_key);

	/* Same names, another key's signature. */
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	cert_save(f->cert, x);
	assert_int_equal(
	    tlscert_info(f->cert, &not_after, &self, err, sizeof(err)), 0);
	assert_false(self);
	assert_true(not_after > 0);

	/* Issued by the other one, properly. */
	issuer = X509_NAME_new();
	assert_non_null(issuer);
	assert_int_equal(
	    X509_NAME_add_entry_by_NID(issuer, NID_commonName, MBSTRING_ASC,
	        (const unsigned char *)"ca.example.com", -1, -1, 0),
	    1);
	assert_int_equal(X509_set_issuer_name(x, issuer), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	cert_save(f->cert, x);
	self = true;
	assert_int_equal(
	    tlscert_info(f->cert, &not_after, &self, err, sizeof(err)), 0);
	assert_false(self);
	assert_int_equal(ERR_peek_error(), 0);

	X509_NAME_free(issuer);
	EVP_PKEY_free(k);
	X509_free(x);
}

/* Two runs give different keys and serials. */
static void
test_unique(void **state)
{
	struct fixture *f = *state;
	char cert2[PATH_MAX], key2[PATH_MAX], err[ERR_MAX] = "";
	X509 *a, *b;

	snprintf(cert2, sizeof(cert2), "%s/cert2.pem", f->dir);
	snprintf(key2, sizeof(key2), "%s/key2.pem", f->dir);
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     f->cert, f->key, false, err, sizeof(err)),
	    0);
	assert_int_equal(tlscert_selfsigned_create("pbx.example.com", DAYS,
	                     cert2, key2, false, err, sizeof(err)),
	    0);
	a = cert_load(f->cert);
	b = cert_load(cert2);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a),
	                         X509_get0_serialNumber(b)),
	    0);
	assert_int_not_equal(
	    EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)), 1);
	X509_free(a);
	X509_free(b);
}

#define T(fn)                                                                  \
	cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_create_dns),
	    T(test_create_ipv4),
	    T(test_create_ipv6),
	    T(test_create_limits),
	    T(test_no_overwrite),
	    T(test_one_exists),
	    T(test_cert_write_fails),
	    T(test_bad_hosts),
	    T(test_bad_args),
	    T(test_info_errors),
	    T(test_info_not_self_signed),
	    T(test_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
