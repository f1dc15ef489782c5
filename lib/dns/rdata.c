/* rdata.c - the record data of DNS answers (dnsq.h) as text: TXT strings
 * joined, domain names (uncompressed, as libunbound hands them over), A and
 * AAAA addresses, MX preference and exchange. Pure; every length checked
 * against the record's own. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "smtprobe/dnsq.h"
#include "banned.h"

long smtprobe_dns_txt(const unsigned char *rd, int len, char *out, size_t outsz)
{
	size_t o = 0;

	if (rd == NULL || len < 0 || outsz == 0)
		return -1;
	for (int i = 0; i < len;) {
		size_t n = rd[i++];
		if ((size_t)(len - i) < n || o + n >= outsz)
			return -1;
		memcpy(out + o, rd + i, n);
		o += n;
		i += (int)n;
	}
	out[o] = '\0';
	return (long)o;
}

long smtprobe_dns_name(const unsigned char *rd, int len, size_t off, char *out,
                       size_t outsz)
{
	size_t o = 0, i = off;

	if (rd == NULL || len < 0 || outsz < 2)
		return -1;
	for (;;) {
		if (i >= (size_t)len)
			return -1;
		size_t n = rd[i++];
		if (n == 0)
			break;
		if (n > 63 || i + n > (size_t)len || o + n + 2 > outsz)
			return -1; /* a compression pointer, or too long */
		if (o)
			out[o++] = '.';
		for (size_t k = 0; k < n; k++) {
			unsigned char c = rd[i + k];
			/* the checks compare names: anything odd is kept
			 * visible, not interpreted */
			out[o++] = c > 0x20 && c < 0x7f && c != '.' ? (char)c
			                                            : '?';
		}
		i += n;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return (long)i;
}

int smtprobe_dns_addr(int type, const unsigned char *rd, int len, char *out,
                      size_t outsz)
{
	if (type == SMTPROBE_RR_A && len == 4)
		return inet_ntop(AF_INET, rd, out, (socklen_t)outsz) ? 0 : -1;
	if (type == SMTPROBE_RR_AAAA && len == 16)
		return inet_ntop(AF_INET6, rd, out, (socklen_t)outsz) ? 0 : -1;
	return -1;
}

int smtprobe_dns_mx(const unsigned char *rd, int len, unsigned *pref, char *out,
                    size_t outsz)
{
	if (rd == NULL || len < 3)
		return -1;
	*pref = (unsigned)rd[0] << 8 | rd[1];
	long end = smtprobe_dns_name(rd, len, 2, out, outsz);
	return end == len ? 0 : -1;
}
