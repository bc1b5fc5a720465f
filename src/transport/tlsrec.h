/* tlsrec.h: the TLS record layer of an established server connection,
 * once OpenSSL's handshake is done. OpenSSL's per-connection state (the
 * SSL object, its cipher contexts and buffers) costs about 20 KiB; this
 * keeps raw keys, IVs, sequence numbers and, for TLS 1.3, the traffic
 * secrets (for KeyUpdate): about 220 bytes. The AEAD contexts are kept
 * per thread (one per cipher) and re-keyed per record; nothing is
 * allocated per record.
 *
 * Handled: TLS 1.3 with TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
 * TLS_CHACHA20_POLY1305_SHA256 (RFC 8446 5.2-5.5, 7.1-7.3, KeyUpdate
 * both ways); TLS 1.2 with the AES-GCM (RFC 5288) and ChaCha20-Poly1305
 * (RFC 7905) suites, whatever the key exchange. No renegotiation, no
 * post-handshake authentication, no tickets after the hand-off.
 *
 * Use: tlsrec_ctx_setup on every server SSL_CTX (also the SNI ones); when
 * SSL_do_handshake returns 1 on the server, before any application data
 * is read or written, tlsrec_take, and on success SSL_free (no
 * SSL_shutdown: nothing more may go through the SSL object). A state is
 * used by one thread at a time; different states may be used by
 * different threads at once. */
#ifndef SW_TLSREC_H
#define SW_TLSREC_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	TLSREC_HDR = 5,           /* type, version (2), length (2) */
	TLSREC_PLAIN_MAX = 16384, /* application data per record */
	TLSREC_TAG = 16,          /* AEAD tag, every suite */
	/* Bytes a sealed record adds to its plaintext: TLS 1.2 AES-GCM
	 * (header, explicit nonce, tag); TLS 1.3 adds 22, 1.2 ChaCha 21. */
	TLSREC_OVERHEAD_MAX = TLSREC_HDR + 8 + TLSREC_TAG,
	/* The longest record tlsrec_open accepts, header included; a header
	 * announcing more is refused at once. An input buffer this large
	 * always holds the next whole record. */
	TLSREC_CIPHER_MAX = TLSREC_PLAIN_MAX + TLSREC_OVERHEAD_MAX,
	/* A TLS 1.3 KeyUpdate record: header, message (4 + 1), type, tag. */
	TLSREC_KEYUPDATE_LEN = TLSREC_HDR + 5 + 1 + TLSREC_TAG,
	TLSREC_SECRET_MAX = 48, /* TLS 1.3 traffic secret, SHA-384 */
	/* A close_notify record: header, explicit nonce (1.2) or inner type
	 * (1.3), alert (2), tag; at most. */
	TLSREC_CLOSE_LEN = TLSREC_HDR + 8 + 2 + TLSREC_TAG,
};

enum tlsrec_suite {
	TLSREC_AES_128_GCM,
	TLSREC_AES_256_GCM,
	TLSREC_CHACHA20_POLY1305,
};

struct tlsrec; /* opaque; tlsrec_take / tlsrec_free */

/* Prepares a server SSL_CTX: installs the keylog callback that keeps the
 * two TLS 1.3 application traffic secrets of each connection (in ex_data
 * of its SSL, wiped when the SSL is freed or taken; every other keylog
 * line is ignored) and turns off session tickets (SSL_CTX_set_num_tickets
 * 0), so nothing is sent after the handshake. Replaces any keylog
 * callback set before. Call it on every SSL_CTX a connection may be
 * switched to (SNI). */
void tlsrec_ctx_setup(SSL_CTX *ctx);

/* At the end of a server handshake: the record state for ssl's
 * connection, built from its keys, in *out (the caller owns it; SSL_free
 * the SSL next). Wipes the stored TLS 1.3 secrets. Returns 0, ENOTSUP (not
 * a finished server handshake, a version or suite not handled, data
 * buffered in OpenSSL, tickets on, the TLS 1.3 secrets missing: keep
 * using the SSL object), ENOMEM, EIO (OpenSSL failed). */
int tlsrec_take(SSL *ssl, struct tlsrec **out);

void tlsrec_free(struct tlsrec *r); /* wipes keys; accepts NULL */

/* Opens the whole records at the start of in[0, inlen): sets *used to the
 * bytes consumed (whole records only; a partial record at the end is
 * left) and appends the application data to out[0, size), setting
 * *outlen to the bytes written. Stops early, consuming fewer records, when
 * the next record's plaintext might not fit in what is left of out: pass
 * at least TLSREC_PLAIN_MAX free bytes to always take the next record,
 * and call again while it consumes something. A TLS 1.3 KeyUpdate from the
 * peer changes the read key; when it asks for one back, tlsrec_reply_due
 * turns true. in and out must not overlap.
 * Returns 0; EPIPE when the peer sent an alert (close_notify or any
 * other: it is done; *used and *outlen are set, and the application data
 * before the alert is in out); EPROTO on anything invalid (bad tag,
 * replayed or reordered record, wrong type, version or length, handshake
 * other than a TLS 1.3 KeyUpdate, ChangeCipherSpec, a TLS 1.3 record with
 * no content type, sequence number exhausted) as soon as it is seen, even
 * in a partial record's header; ENOMEM or EIO (OpenSSL failed). After
 * an error other than EPIPE the state is unusable (close the connection;
 * the bytes of out past what earlier calls returned are unspecified). */
int tlsrec_open(struct tlsrec *r, const unsigned char *in, size_t inlen,
    size_t *used, unsigned char *out, size_t size, size_t *outlen);

/* Protects in[0, inlen) as application data records of at most
 * TLSREC_PLAIN_MAX bytes (or the max_fragment_length the client asked
 * for) into out[0, size), setting *outlen. A KeyUpdate reply that is due
 * goes first (update_not_requested, under the old key; then the write key
 * updates); with inlen 0 it is all that is written. in and out must not
 * overlap. Returns 0, EMSGSIZE (out smaller than tlsrec_sealed_max; nothing
 * changed), EOVERFLOW (the write sequence numbers are used up: close),
 * ENOMEM or EIO (OpenSSL failed: close). */
int tlsrec_seal(struct tlsrec *r, const unsigned char *in, size_t inlen,
    unsigned char *out, size_t size, size_t *outlen);

/* The bytes tlsrec_seal(r, in, inlen, ...) writes now (a KeyUpdate reply
 * included); at most inlen + TLSREC_KEYUPDATE_LEN + TLSREC_OVERHEAD_MAX per
 * started TLSREC_PLAIN_MAX bytes when no max_fragment_length was
 * negotiated. */
size_t tlsrec_sealed_max(const struct tlsrec *r, size_t inlen);

/* Seals a close_notify alert (RFC 8446 6.1) into out[0, size), setting
 * *outlen: the last record we send. Returns 0, EMSGSIZE (size under
 * TLSREC_CLOSE_LEN), EOVERFLOW, ENOMEM or EIO. */
int tlsrec_seal_close(
    struct tlsrec *r, unsigned char *out, size_t size, size_t *outlen);

/* True when the peer asked for a KeyUpdate that is not sent yet: call
 * tlsrec_seal, with inlen 0 when there is no data, and send the result. */
bool tlsrec_reply_due(const struct tlsrec *r);

/* For tests and fuzzing: a state without a handshake. version is
 * TLS1_2_VERSION or TLS1_3_VERSION. For TLS 1.3, rx and tx are the peer's
 * and our application traffic secrets (32 bytes, or 48 for AES-256-GCM);
 * for TLS 1.2, the peer's and our write key || write IV from the key
 * block (16 + 4, 32 + 4 or 32 + 12 bytes). rx_seq and tx_seq are the
 * next sequence numbers. Swapping rx and tx gives the peer's state.
 * Returns 0, EINVAL (unknown version or suite, wrong length), ENOMEM,
 * EIO. */
int tlsrec_new_raw(int version, enum tlsrec_suite suite,
    const unsigned char *rx, const unsigned char *tx, size_t len,
    uint64_t rx_seq, uint64_t tx_seq, struct tlsrec **out);

#endif
