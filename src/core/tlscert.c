/* tlscert.c: see tlscert.h. Runs in the `sipwarden init` and `audit`
 * commands, never in the daemon's hot path. */
#include "core/tlscert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/util.h"

enum {
	TLSCERT_ADDR_MAX = 16, /* an IPv6 address */
	TLSCERT_ERRSTR_MAX = 256
};

/* What a validated host is, and for an IP literal its network bytes. */
struct tlscert_host {
	const char *name;
	size_t len;
	int af; /* AF_UNSPEC for a DNS name */
	unsigned char addr[TLSCERT_ADDR_MAX];
	size_t addrlen;
};

static void tlscert_err_set(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats a reason into err, when the caller gave one. */
static void
tlscert_err_set(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

/* Formats "what: <OpenSSL's earliest queued error>" into err, empties the
 * OpenSSL error queue and returns EIO. */
static int
tlscert_err_ssl(char *err, size_t errsize, const char *what)
{
	char buf[TLSCERT_ERRSTR_MAX];
	unsigned long e = ERR_get_error();

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		tlscert_err_set(err, errsize, "%s: %s", what, buf);
	} else {
		tlscert_err_set(err, errsize, "%s", what);
	}
	ERR_clear_error();
	return EIO;
}

/* Formats "what path: strerror(code)" into err and returns code. */
static int
tlscert_err_sys(
    char *err, size_t errsize, const char *what, const char *path, int code)
{
	char buf[TLSCERT_ERRSTR_MAX];

	tlscert_err_set(err, errsize, "%s %s: %s", what, path,
	    strerror_r(code, buf, sizeof(buf)));
	return code;
}

static bool
tlscert_is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

/* Checks name[0..len) as a DNS name: dot-separated labels of 1..63 letters,
 * digits and hyphens, none starting or ending with a hyphen, and a last
 * label not all digits (so "300.1.1.1" is neither an address nor a name).
 * Returns true when it is one. */
static bool
tlscert_dns_valid(const char *name, size_t len)
{
	size_t i, start = 0;
	bool digits = true;

	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			size_t n = i - start;

			if (n == 0 || n > TLSCERT_LABEL_MAX ||
			    name[start] == '-' || name[i - 1] == '-')
				return false;
			if (i == len)
				break;
			start = i + 1;
			digits = true;
			continue;
		}
		if (!tlscert_is_ldh(name[i]))
			return false;
		if (name[i] < '0' || name[i] > '9')
			digits = false;
	}
	return !digits;
}

/* Validates host as an IPv4/IPv6 literal or a DNS name and fills *h (which
 * refers to host). Returns 0 or EINVAL. */
static int
tlscert_host_parse(const char *host, struct tlscert_host *h)
{
	size_t len;

	if (host == NULL)
		return EINVAL;
	len = strnlen(host, TLSCERT_HOST_MAX + 1);
	if (len == 0 || len > TLSCERT_HOST_MAX)
		return EINVAL;
	memset(h, 0, sizeof(*h));
	h->name = host;
	h->len = len;
	if (inet_pton(AF_INET, host, h->addr) == 1) {
		h->af = AF_INET;
		h->addrlen = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, h->addr) == 1) {
		h->af = AF_INET6;
		h->addrlen = 16;
		return 0;
	}
	if (!tlscert_dns_valid(host, len))
		return EINVAL;
	h->af = AF_UNSPEC;
	return 0;
}

/* Adds subjectAltName DNS:host or IP:host to x. Returns 1 or 0 (OpenSSL's
 * error queue says why). */
static int
tlscert_san_add(X509 *x, const struct tlscert_host *h)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gn = NULL;
	ASN1_STRING *s = NULL;
	int ok = 0;

	if ((gens = GENERAL_NAMES_new()) == NULL ||
	    (gn = GENERAL_NAME_new()) == NULL)
		goto out;
	if (h->af == AF_UNSPEC) {
		if ((s = ASN1_IA5STRING_new()) == NULL ||
		    !ASN1_STRING_set(s, h->name, (int)h->len))
			goto out;
		GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	} else {
		if ((s = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(s, h->addr, (int)h->addrlen))
			goto out;
		GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
	}
	s = NULL; /* gn owns it */
	if (!sk_GENERAL_NAME_push(gens, gn))
		goto out;
	gn = NULL; /* gens owns it */
	ok = X509_add1_ext_i2d(
	         x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
out:
	ASN1_STRING_free(s);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return ok;
}

/* Adds one extension given in openssl.cnf syntax to x. Returns 1 or 0. */
static int
tlscert_ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* Sets a random positive serial of TLSCERT_SERIAL_BITS bits. Returns 1 or
 * 0. */
static int
tlscert_serial_set(X509 *x)
{
	BIGNUM *bn;
	int ok = 0;

	if ((bn = BN_new()) == NULL)
		return 0;
	do {
		if (!BN_rand(bn, TLSCERT_SERIAL_BITS, BN_RAND_TOP_ANY,
		        BN_RAND_BOTTOM_ANY))
			goto out;
	} while (BN_is_zero(bn));
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
out:
	BN_free(bn);
	return ok;
}

/* Builds and signs the certificate for h and pkey. Returns 0 and sets *xp
 * (the caller frees it with X509_free), or EIO with err filled. */
static int
tlscert_x509_build(const struct tlscert_host *h, unsigned days, EVP_PKEY *pkey,
    X509 **xp, char *err, size_t errsize)
{
	X509 *x = NULL;
	X509_NAME *name;
	X509V3_CTX ctx;
	const char *cn = h->len <= TLSCERT_CN_MAX ? h->name : TLSCERT_CN_LONG;
	time_t start = time(NULL) - TLSCERT_BACKDATE_SECS;
	int rc = 0;

	if ((x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !tlscert_serial_set(x)) {
		rc = tlscert_err_ssl(err, errsize, "cannot create certificate");
		goto out;
	}
	if (ASN1_TIME_adj(X509_getm_notBefore(x), start, 0, 0) == NULL ||
	    ASN1_TIME_adj(X509_getm_notAfter(x), start, (int)days, 0) == NULL) {
		rc = tlscert_err_ssl(err, errsize, "cannot set validity");
		goto out;
	}
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
	        (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, pkey)) {
		rc = tlscert_err_ssl(err, errsize, "cannot set subject");
		goto out;
	}
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (!tlscert_ext_add(
	        x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    !tlscert_ext_add(
	        x, &ctx, NID_key_usage, "critical,digitalSignature") ||
	    !tlscert_ext_add(
	        x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    !tlscert_ext_add(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !tlscert_san_add(x, h)) {
		rc = tlscert_err_ssl(err, errsize, "cannot add extensions");
		goto out;
	}
	if (X509_sign(x, pkey, EVP_sha256()) <= 0) {
		rc = tlscert_err_ssl(err, errsize, "cannot sign certificate");
		goto out;
	}
	*xp = x;
	x = NULL; /* the caller owns it now */
out:
	X509_free(x);
	return rc;
}

/* Writes the PEM of pkey (PKCS#8, unencrypted) or of x into a memory BIO
 * and sets *biop (the caller frees it; a key BIO is wiped on free).
 * Returns 0 or EIO with err filled. */
static int
tlscert_pem_encode(
    EVP_PKEY *pkey, X509 *x, BIO **biop, char *err, size_t errsize)
{
	BIO *bio;
	int ok;

	if ((bio = BIO_new(pkey ? BIO_s_secmem() : BIO_s_mem())) == NULL)
		return tlscert_err_ssl(err, errsize, "cannot encode PEM");
	if (pkey != NULL)
		ok = PEM_write_bio_PrivateKey(
		    bio, pkey, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_bio_X509(bio, x);
	if (!ok) {
		BIO_free(bio);
		return tlscert_err_ssl(err, errsize, "cannot encode PEM");
	}
	*biop = bio;
	return 0;
}

/* Writes the bytes held in bio to path with mode, atomically. Returns 0 or
 * an errno code with err filled. */
static int
tlscert_bio_save(BIO *bio, const char *path, mode_t mode, bool overwrite,
    char *err, size_t errsize)
{
	char *data;
	long n;
	int rc;

	if ((n = BIO_get_mem_data(bio, &data)) <= 0)
		return tlscert_err_ssl(err, errsize, "cannot encode PEM");
	rc = util_file_write(path, data, (size_t)n, mode, !overwrite);
	if (rc == EEXIST)
		tlscert_err_set(err, errsize, "%s already exists", path);
	else if (rc != 0)
		tlscert_err_sys(err, errsize, "cannot write", path, rc);
	return rc;
}

int
tlscert_selfsigned_create(const char *host, unsigned days,
    const char *cert_path, const char *key_path, bool overwrite, char *err,
    size_t errsize)
{
	struct tlscert_host h;
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	BIO *keybio = NULL, *certbio = NULL;
	const char *paths[] = {key_path, cert_path};
	size_t i;
	int rc;

	if ((rc = tlscert_host_parse(host, &h)) != 0) {
		tlscert_err_set(err, errsize, "invalid host name");
		return rc;
	}
	if (days == 0 || days > TLSCERT_DAYS_MAX) {
		tlscert_err_set(err, errsize, "validity must be 1 to %d days",
		    TLSCERT_DAYS_MAX);
		return EINVAL;
	}
	if (cert_path == NULL || key_path == NULL || cert_path[0] == '\0' ||
	    key_path[0] == '\0' || strcmp(cert_path, key_path) == 0) {
		tlscert_err_set(err, errsize,
		    "certificate and key need two different paths");
		return EINVAL;
	}
	/* Refuse early; util_file_write checks again without a race. */
	for (i = 0; !overwrite && i < ARRAY_LEN(paths); i++) {
		if (access(paths[i], F_OK) == 0) {
			tlscert_err_set(
			    err, errsize, "%s already exists", paths[i]);
			return EEXIST;
		}
	}
	ERR_clear_error();
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL) {
		rc = tlscert_err_ssl(err, errsize, "cannot generate key");
		goto out;
	}
	if ((rc = tlscert_x509_build(&h, days, pkey, &x, err, errsize)) != 0 ||
	    (rc = tlscert_pem_encode(pkey, NULL, &keybio, err, errsize)) != 0 ||
	    (rc = tlscert_pem_encode(NULL, x, &certbio, err, errsize)) != 0)
		goto out;
	if ((rc = tlscert_bio_save(
	         keybio, key_path, 0600, overwrite, err, errsize)) != 0)
		goto out;
	if ((rc = tlscert_bio_save(
	         certbio, cert_path, 0644, overwrite, err, errsize)) != 0)
		unlink(key_path); /* no key without its certificate */
out:
	BIO_free(keybio); /* a secmem BIO: its buffer is wiped */
	BIO_free(certbio);
	X509_free(x);
	EVP_PKEY_free(pkey); /* wipes the private scalar */
	return rc;
}

int
tlscert_info(const char *cert_path, int64_t *not_after, bool *self_signed,
    char *err, size_t errsize)
{
	char *pem = NULL;
	size_t len;
	BIO *bio = NULL;
	X509 *x = NULL;
	EVP_PKEY *pub;
	struct tm tm;
	time_t t;
	bool self;
	int rc;

	if (cert_path == NULL) {
		tlscert_err_set(err, errsize, "no certificate path");
		return EINVAL;
	}
	if ((rc = util_file_read(cert_path, TLSCERT_FILE_MAX, &pem, &len)) !=
	    0) {
		tlscert_err_sys(err, errsize, "cannot read", cert_path, rc);
		return rc;
	}
	ERR_clear_error();
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		tlscert_err_ssl(err, errsize, "cannot read certificate");
		rc = ENOMEM;
		goto out;
	}
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		tlscert_err_ssl(err, errsize, "no PEM certificate");
		rc = EBADMSG;
		goto out;
	}
	memset(&tm, 0, sizeof(tm));
	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) ||
	    (t = timegm(&tm)) == (time_t)-1) {
		tlscert_err_ssl(err, errsize, "bad notAfter time");
		rc = EBADMSG;
		goto out;
	}
	pub = X509_get0_pubkey(x);
	self = X509_NAME_cmp(
	           X509_get_issuer_name(x), X509_get_subject_name(x)) == 0 &&
	       pub != NULL && X509_verify(x, pub) == 1;
	ERR_clear_error(); /* a failed verify only means "not self-signed" */
	if (not_after != NULL)
		*not_after = (int64_t)t;
	if (self_signed != NULL)
		*self_signed = self;
out:
	X509_free(x);
	BIO_free(bio);
	free(pem);
	return rc;
}
