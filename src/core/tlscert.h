/* tlscert.h: the self-signed certificate that `sipwarden init` creates for
 * SIP over TLS and the portal, and what `audit` reads back from a
 * certificate file. */
#ifndef SW_TLSCERT_H
#define SW_TLSCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	TLSCERT_HOST_MAX = 253,        /* a DNS name, without a trailing dot */
	TLSCERT_LABEL_MAX = 63,        /* one DNS label */
	TLSCERT_CN_MAX = 64,           /* X.520 ub-common-name */
	TLSCERT_DAYS_MAX = 36500,      /* a hundred years */
	TLSCERT_SERIAL_BITS = 128,     /* random serial number */
	TLSCERT_BACKDATE_SECS = 60,    /* notBefore = now - this */
	TLSCERT_FILE_MAX = 1024 * 1024 /* a PEM certificate file we read */
};

#define TLSCERT_CN_LONG "sipwarden"

/* Generates an EC P-256 key and a self-signed X.509 v3 certificate for host:
 * a DNS name (SAN DNS:host) or an IPv4/IPv6 literal (SAN IP:host); CN = host,
 * or TLSCERT_CN_LONG when host is longer than TLSCERT_CN_MAX (a CN cannot
 * hold it; clients match the SAN, which holds the whole name).
 * Valid from now - 1 minute for `days` days (1..TLSCERT_DAYS_MAX), a 128-bit
 * random serial, signed with ECDSA SHA-256, with basicConstraints critical
 * CA:FALSE, keyUsage critical digitalSignature, extendedKeyUsage
 * serverAuth+clientAuth and a subjectKeyIdentifier.
 *
 * Writes the certificate PEM to cert_path (mode 0644) and the unencrypted
 * PKCS#8 PEM key to key_path (mode 0600 from creation on), each atomically.
 * Without overwrite, an existing file is left alone and EEXIST returned.
 *
 * Returns 0, or EINVAL (bad host, days or paths), EEXIST, EIO (an OpenSSL
 * failure) or the errno of a failed write; then err (errsize bytes,
 * may be NULL) holds a reason and no file written by this call remains. */
int tlscert_selfsigned_create(const char *host, unsigned days,
    const char *cert_path, const char *key_path, bool overwrite, char *err,
    size_t errsize);

/* Reads the first PEM certificate of cert_path and sets *not_after (unix
 * seconds) and *self_signed (issuer equals subject and its own public key
 * verifies its signature); either pointer may be NULL. Returns 0, EINVAL for
 * a NULL path, the errno of a failed read, EFBIG past TLSCERT_FILE_MAX, EBADMSG
 * when the file holds no readable certificate; on failure err holds a reason
 * and the outputs are untouched. */
int tlscert_info(const char *cert_path, int64_t *not_after, bool *self_signed,
    char *err, size_t errsize);

#endif
