/* util.c - socket address formatting and parsing for messages and bind().
 * Bounded output (snprintf); never fails loudly: an unknown family prints
 * as "?". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "banned.h"

void util_format_addr(char *out, size_t outsz, const struct sockaddr *sa)
{
	char buf[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		          buf, sizeof(buf));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		          &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		          sizeof(buf));
	snprintf(out, outsz, "%s", buf);
}

void util_format_peer(char *out, size_t outsz, const struct sockaddr *sa)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned port = 0;

	util_format_addr(addr, sizeof(addr), sa);
	if (sa->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	if (sa->sa_family == AF_INET6)
		snprintf(out, outsz, "[%s]:%u", addr, port);
	else
		snprintf(out, outsz, "%s:%u", addr, port);
}

int util_parse_addr(const char *addr, unsigned port, int family,
                    struct sockaddr_storage *out, socklen_t *outlen)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		if (inet_pton(AF_INET, addr, &in->sin_addr) != 1)
			return -1;
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
		*outlen = sizeof(*in);
		return 0;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		if (inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		*outlen = sizeof(*in6);
		return 0;
	}
	return -1;
}

const char *util_strerror(int err, char *buf, size_t bufsz)
{
	/* strerror's text, lower-cased first letter: errors read as one
	 * lower-case line ("connection refused"). */
	snprintf(buf, bufsz, "%s", strerror(err));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}
