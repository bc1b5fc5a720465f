/* sdp.h: SDP session descriptions (RFC 4566), as offers and answers carry
 * them (RFC 3264), with SDES crypto attributes (RFC 4568). Pure functions:
 * no I/O, no logging, no globals, no allocation. The caller provides the
 * result; text fields are views into the parsed buffer, which must outlive
 * them. Every field is editable: to rewrite an address, point its view at
 * other text; ports are numbers; crypto keys are decoded bytes. */
#ifndef SW_SDP_H
#define SW_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

enum {
	SDP_MAX = 8192,     /* bytes of one session description */
	SDP_MEDIA_MAX = 8,  /* m= sections */
	SDP_FMT_MAX = 32,   /* formats per m=, and rtpmap/fmtp per m= */
	SDP_ATTR_MAX = 64,  /* a= lines per section (session or media) */
	SDP_CRYPTO_MAX = 8, /* a=crypto lines per m= */
	SDP_LINE_MAX = 16, /* other lines (i u e p b k r z t ...) per section */
	SDP_KEY_MAX = 46,  /* bytes of SRTP master key + salt */
	SDP_PORT_MAX = 65535 /* highest port */
};

enum sdp_addrtype { SDP_ADDR_IP4, SDP_ADDR_IP6 };

enum sdp_dir {
	SDP_DIR_NONE, /* no direction attribute at this level */
	SDP_DIR_SENDRECV,
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE
};

enum sdp_proto {
	SDP_PROTO_OTHER, /* see proto_name */
	SDP_PROTO_RTP_AVP,
	SDP_PROTO_RTP_SAVP,
	SDP_PROTO_RTP_AVPF,
	SDP_PROTO_RTP_SAVPF,
	SDP_PROTO_UDP_TLS_RTP_SAVP,
	SDP_PROTO_UDP_TLS_RTP_SAVPF
};

enum sdp_suite {
	SDP_SUITE_AES_CM_128_HMAC_SHA1_80,
	SDP_SUITE_AES_CM_128_HMAC_SHA1_32,
	SDP_SUITE_AES_256_CM_HMAC_SHA1_80,
	SDP_SUITE_AEAD_AES_128_GCM
};

struct sdp_conn { /* c=IN <type> <addr> */
	bool present;
	enum sdp_addrtype type;
	struct sv addr; /* as written, with any /ttl/n suffix */
};

struct sdp_line {  /* a line this parser does not interpret */
	char type; /* 'i', 'u', 'e', 'p', 'b', 'k', 'r', 'z', 't', ... */
	struct sv value;
};

struct sdp_attr { /* a=name or a=name:value, kept as written */
	struct sv name;
	struct sv value;
	bool has_value;
};

struct sdp_rtpmap { /* a=rtpmap:<pt> <encoding>/<clock>[/<channels>] */
	unsigned pt;
	struct sv encoding;
	uint32_t clock;
	unsigned channels; /* 0 when absent */
};

struct sdp_fmtp { /* a=fmtp:<pt> <params> */
	unsigned pt;
	struct sv params;
};

struct sdp_rtcp { /* a=rtcp:<port> [IN <type> <addr>] */
	bool present;
	unsigned port;
	bool has_addr;
	enum sdp_addrtype type;
	struct sv addr;
};

struct sdp_crypto { /* a=crypto:<tag> <suite> inline:<key>[|lt][|mki] ... */
	unsigned tag;
	enum sdp_suite suite;
	unsigned char key[SDP_KEY_MAX]; /* master key || salt, decoded */
	size_t keylen;                  /* sdp_suite_keylen(suite) */
	struct sv lifetime;             /* "2^31" or "", without the '|' */
	struct sv mki;                  /* "1:4" or "", without the '|' */
	struct sv params;               /* session parameters, or "" */
};

struct sdp_media {
	struct sv type; /* "audio", "video", ... */
	unsigned port;
	unsigned nports; /* the /n of port/n; 0 when absent */
	enum sdp_proto proto;
	struct sv proto_name; /* as written */
	bool secure;          /* an SAVP profile */
	struct sv fmt[SDP_FMT_MAX];
	size_t nfmt;
	struct sdp_conn conn; /* media-level c=, or not present */
	struct sdp_line line[SDP_LINE_MAX];
	size_t nline;
	enum sdp_dir dir;
	bool rtcp_mux;
	struct sdp_rtcp rtcp;
	unsigned ptime; /* ms; 0 when absent */
	struct sdp_rtpmap rtpmap[SDP_FMT_MAX];
	size_t nrtpmap;
	struct sdp_fmtp fmtp[SDP_FMT_MAX];
	size_t nfmtp;
	struct sdp_crypto crypto[SDP_CRYPTO_MAX];
	size_t ncrypto;
	struct sdp_attr attr[SDP_ATTR_MAX]; /* the attributes not above */
	size_t nattr;
};

struct sdp_session {
	struct sv origin_user; /* o= */
	uint64_t sess_id;
	uint64_t sess_version;
	enum sdp_addrtype origin_type;
	struct sv origin_addr;
	struct sv name; /* s= */
	struct sdp_conn conn;
	uint64_t t_start, t_stop; /* the first t= */
	struct sdp_line line[SDP_LINE_MAX];
	size_t nline;
	enum sdp_dir dir;
	struct sdp_attr attr[SDP_ATTR_MAX]; /* the attributes not above */
	size_t nattr;
	struct sdp_media media[SDP_MEDIA_MAX];
	size_t nmedia;
};

/* Parses the session description in [buf, buf+len) into *s (the caller's;
 * its views point into buf; cleared on failure, keys included). Lines end
 * in CRLF or LF. Returns 0, EBADMSG when malformed (including a crypto key
 * of the wrong length for its suite), EMSGSIZE past a limit above, EINVAL on
 * NULL. A crypto attribute with an unknown suite is kept in attr
 * (RFC 4568 6.1); one with several keys ("inline:..;inline:..") is
 * malformed here. */
int sdp_session_parse(const char *buf, size_t len, struct sdp_session *s);

/* Writes *s as a session description with CRLF line ends into buf (size
 * bytes, not NUL-terminated) and sets *outlen. Returns 0, EMSGSIZE when buf
 * is too small, EINVAL when a field cannot be written (a view holding CR,
 * LF or NUL, a bad enum or key length). */
int sdp_build(
    char *buf, size_t size, const struct sdp_session *s, size_t *outlen);

/* The direction in effect for m: its own, else the session's, else
 * sendrecv. */
enum sdp_dir sdp_media_dir(
    const struct sdp_session *s, const struct sdp_media *m);

/* The connection in effect for m: its own c=, else the session's. */
const struct sdp_conn *sdp_media_conn(
    const struct sdp_session *s, const struct sdp_media *m);

/* Bytes of master key + salt for suite (30, 46 or 28); 0 when unknown. */
size_t sdp_suite_keylen(enum sdp_suite suite);

/* The suite's RFC 4568 name, or NULL when unknown. */
const char *sdp_suite_name(enum sdp_suite suite);

#endif
