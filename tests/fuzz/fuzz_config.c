/* fuzz_config.c: the INI config loader on arbitrary bytes. */
#include "core/config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	char err[256];

	if (config_load_string((const char *)data, size, "/tmp", "fuzz.conf",
	        &c, err, sizeof(err)) == 0) {
		char buf[CONFIG_ADDR_STRLEN];
		size_t i;

		for (i = 0; i < c->sip_tls.n; i++)
			config_listen_fmt(
			    &c->sip_tls.addr[i], buf, sizeof(buf));
		for (i = 0; i < c->guard_allow_n; i++)
			config_cidr_fmt(&c->guard_allow[i], buf, sizeof(buf));
		config_free(c);
	} else if (memchr(err, '\0', sizeof(err)) == NULL) {
		__builtin_trap(); /* the message must be a C string */
	}
	return 0;
}
