/* util.h - small helpers shared inside the library (internal). */
#ifndef SMTPROBE_UTIL_H
#define SMTPROBE_UTIL_H

#include <stddef.h>
#include <sys/socket.h>

/* "127.0.0.1:25" / "[::1]:25" */
void util_format_peer(char *out, size_t outsz, const struct sockaddr *sa);
/* "127.0.0.1" / "::1" */
void util_format_addr(char *out, size_t outsz, const struct sockaddr *sa);
/* Parse an address literal for bind(); 0 or -1 (not an address of family). */
int util_parse_addr(const char *addr, unsigned port, int family,
                    struct sockaddr_storage *out, socklen_t *outlen);

/* strerror(err), first letter lower-cased, in buf. */
const char *util_strerror(int err, char *buf, size_t bufsz);

#endif
