/* test_tls_suites.c - the cipher suite table (lib/tlsscan/suites.c): order
 * and uniqueness, the facts of every suite Debian 12's OpenSSL knows (a
 * snapshot of its list, below), the rules that tie flags, strength and
 * words together, lookups, and the per-version suite lists. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "suites.h"
#include "hello.h"

#include "banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* `openssl ciphers -V -stdname -ciphersuites 'TLS_AES_128_GCM_SHA256:
 * TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:
 * TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256'
 * 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'` with OpenSSL 3.0.19 on Debian 12:
 * code, name, IANA name, version, Kx, Au, Enc, Mac. */
static const struct {
	uint16_t id;
	const char *name, *iana, *version, *kx, *au, *enc, *mac;
} openssl_snapshot[] = {
        /* clang-format off */
        {0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", "TLSv1.3", "any", "any", "AESGCM(128)", "AEAD"},
        {0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", "TLSv1.3", "any", "any", "AESGCM(256)", "AEAD"},
        {0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", "any", "any", "CHACHA20/POLY1305(256)", "AEAD"},
        {0x1304, "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_SHA256", "TLSv1.3", "any", "any", "AESCCM(128)", "AEAD"},
        {0x1305, "TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_8_SHA256", "TLSv1.3", "any", "any", "AESCCM8(128)", "AEAD"},
        {0xC02C, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLSv1.2", "ECDH", "ECDSA", "AESGCM(256)", "AEAD"},
        {0xC030, "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLSv1.2", "ECDH", "RSA", "AESGCM(256)", "AEAD"},
        {0x00A3, "DHE-DSS-AES256-GCM-SHA384", "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", "TLSv1.2", "DH", "DSS", "AESGCM(256)", "AEAD"},
        {0x009F, "DHE-RSA-AES256-GCM-SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLSv1.2", "DH", "RSA", "AESGCM(256)", "AEAD"},
        {0xCCA9, "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLSv1.2", "ECDH", "ECDSA", "CHACHA20/POLY1305(256)", "AEAD"},
        {0xCCA8, "ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLSv1.2", "ECDH", "RSA", "CHACHA20/POLY1305(256)", "AEAD"},
        {0xCCAA, "DHE-RSA-CHACHA20-POLY1305", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLSv1.2", "DH", "RSA", "CHACHA20/POLY1305(256)", "AEAD"},
        {0xC0AF, "ECDHE-ECDSA-AES256-CCM8", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", "TLSv1.2", "ECDH", "ECDSA", "AESCCM8(256)", "AEAD"},
        {0xC0AD, "ECDHE-ECDSA-AES256-CCM", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "TLSv1.2", "ECDH", "ECDSA", "AESCCM(256)", "AEAD"},
        {0xC0A3, "DHE-RSA-AES256-CCM8", "TLS_DHE_RSA_WITH_AES_256_CCM_8", "TLSv1.2", "DH", "RSA", "AESCCM8(256)", "AEAD"},
        {0xC09F, "DHE-RSA-AES256-CCM", "TLS_DHE_RSA_WITH_AES_256_CCM", "TLSv1.2", "DH", "RSA", "AESCCM(256)", "AEAD"},
        {0xC05D, "ECDHE-ECDSA-ARIA256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384", "TLSv1.2", "ECDH", "ECDSA", "ARIAGCM(256)", "AEAD"},
        {0xC061, "ECDHE-ARIA256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384", "TLSv1.2", "ECDH", "RSA", "ARIAGCM(256)", "AEAD"},
        {0xC057, "DHE-DSS-ARIA256-GCM-SHA384", "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384", "TLSv1.2", "DH", "DSS", "ARIAGCM(256)", "AEAD"},
        {0xC053, "DHE-RSA-ARIA256-GCM-SHA384", "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384", "TLSv1.2", "DH", "RSA", "ARIAGCM(256)", "AEAD"},
        {0x00A7, "ADH-AES256-GCM-SHA384", "TLS_DH_anon_WITH_AES_256_GCM_SHA384", "TLSv1.2", "DH", "None", "AESGCM(256)", "AEAD"},
        {0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLSv1.2", "ECDH", "ECDSA", "AESGCM(128)", "AEAD"},
        {0xC02F, "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLSv1.2", "ECDH", "RSA", "AESGCM(128)", "AEAD"},
        {0x00A2, "DHE-DSS-AES128-GCM-SHA256", "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", "TLSv1.2", "DH", "DSS", "AESGCM(128)", "AEAD"},
        {0x009E, "DHE-RSA-AES128-GCM-SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLSv1.2", "DH", "RSA", "AESGCM(128)", "AEAD"},
        {0xC0AE, "ECDHE-ECDSA-AES128-CCM8", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "TLSv1.2", "ECDH", "ECDSA", "AESCCM8(128)", "AEAD"},
        {0xC0AC, "ECDHE-ECDSA-AES128-CCM", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "TLSv1.2", "ECDH", "ECDSA", "AESCCM(128)", "AEAD"},
        {0xC0A2, "DHE-RSA-AES128-CCM8", "TLS_DHE_RSA_WITH_AES_128_CCM_8", "TLSv1.2", "DH", "RSA", "AESCCM8(128)", "AEAD"},
        {0xC09E, "DHE-RSA-AES128-CCM", "TLS_DHE_RSA_WITH_AES_128_CCM", "TLSv1.2", "DH", "RSA", "AESCCM(128)", "AEAD"},
        {0xC05C, "ECDHE-ECDSA-ARIA128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256", "TLSv1.2", "ECDH", "ECDSA", "ARIAGCM(128)", "AEAD"},
        {0xC060, "ECDHE-ARIA128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", "TLSv1.2", "ECDH", "RSA", "ARIAGCM(128)", "AEAD"},
        {0xC056, "DHE-DSS-ARIA128-GCM-SHA256", "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256", "TLSv1.2", "DH", "DSS", "ARIAGCM(128)", "AEAD"},
        {0xC052, "DHE-RSA-ARIA128-GCM-SHA256", "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256", "TLSv1.2", "DH", "RSA", "ARIAGCM(128)", "AEAD"},
        {0x00A6, "ADH-AES128-GCM-SHA256", "TLS_DH_anon_WITH_AES_128_GCM_SHA256", "TLSv1.2", "DH", "None", "AESGCM(128)", "AEAD"},
        {0xC024, "ECDHE-ECDSA-AES256-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLSv1.2", "ECDH", "ECDSA", "AES(256)", "SHA384"},
        {0xC028, "ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "TLSv1.2", "ECDH", "RSA", "AES(256)", "SHA384"},
        {0x006B, "DHE-RSA-AES256-SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "TLSv1.2", "DH", "RSA", "AES(256)", "SHA256"},
        {0x006A, "DHE-DSS-AES256-SHA256", "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", "TLSv1.2", "DH", "DSS", "AES(256)", "SHA256"},
        {0xC073, "ECDHE-ECDSA-CAMELLIA256-SHA384", "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384", "TLSv1.2", "ECDH", "ECDSA", "Camellia(256)", "SHA384"},
        {0xC077, "ECDHE-RSA-CAMELLIA256-SHA384", "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384", "TLSv1.2", "ECDH", "RSA", "Camellia(256)", "SHA384"},
        {0x00C4, "DHE-RSA-CAMELLIA256-SHA256", "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256", "TLSv1.2", "DH", "RSA", "Camellia(256)", "SHA256"},
        {0x00C3, "DHE-DSS-CAMELLIA256-SHA256", "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256", "TLSv1.2", "DH", "DSS", "Camellia(256)", "SHA256"},
        {0x006D, "ADH-AES256-SHA256", "TLS_DH_anon_WITH_AES_256_CBC_SHA256", "TLSv1.2", "DH", "None", "AES(256)", "SHA256"},
        {0x00C5, "ADH-CAMELLIA256-SHA256", "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256", "TLSv1.2", "DH", "None", "Camellia(256)", "SHA256"},
        {0xC023, "ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLSv1.2", "ECDH", "ECDSA", "AES(128)", "SHA256"},
        {0xC027, "ECDHE-RSA-AES128-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLSv1.2", "ECDH", "RSA", "AES(128)", "SHA256"},
        {0x0067, "DHE-RSA-AES128-SHA256", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "TLSv1.2", "DH", "RSA", "AES(128)", "SHA256"},
        {0x0040, "DHE-DSS-AES128-SHA256", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", "TLSv1.2", "DH", "DSS", "AES(128)", "SHA256"},
        {0xC072, "ECDHE-ECDSA-CAMELLIA128-SHA256", "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256", "TLSv1.2", "ECDH", "ECDSA", "Camellia(128)", "SHA256"},
        {0xC076, "ECDHE-RSA-CAMELLIA128-SHA256", "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", "TLSv1.2", "ECDH", "RSA", "Camellia(128)", "SHA256"},
        {0x00BE, "DHE-RSA-CAMELLIA128-SHA256", "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", "TLSv1.2", "DH", "RSA", "Camellia(128)", "SHA256"},
        {0x00BD, "DHE-DSS-CAMELLIA128-SHA256", "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256", "TLSv1.2", "DH", "DSS", "Camellia(128)", "SHA256"},
        {0x006C, "ADH-AES128-SHA256", "TLS_DH_anon_WITH_AES_128_CBC_SHA256", "TLSv1.2", "DH", "None", "AES(128)", "SHA256"},
        {0x00BF, "ADH-CAMELLIA128-SHA256", "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256", "TLSv1.2", "DH", "None", "Camellia(128)", "SHA256"},
        {0xC00A, "ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLSv1", "ECDH", "ECDSA", "AES(256)", "SHA1"},
        {0xC014, "ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLSv1", "ECDH", "RSA", "AES(256)", "SHA1"},
        {0x0039, "DHE-RSA-AES256-SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "SSLv3", "DH", "RSA", "AES(256)", "SHA1"},
        {0x0038, "DHE-DSS-AES256-SHA", "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "SSLv3", "DH", "DSS", "AES(256)", "SHA1"},
        {0x0088, "DHE-RSA-CAMELLIA256-SHA", "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA", "SSLv3", "DH", "RSA", "Camellia(256)", "SHA1"},
        {0x0087, "DHE-DSS-CAMELLIA256-SHA", "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA", "SSLv3", "DH", "DSS", "Camellia(256)", "SHA1"},
        {0xC019, "AECDH-AES256-SHA", "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "TLSv1", "ECDH", "None", "AES(256)", "SHA1"},
        {0x003A, "ADH-AES256-SHA", "TLS_DH_anon_WITH_AES_256_CBC_SHA", "SSLv3", "DH", "None", "AES(256)", "SHA1"},
        {0x0089, "ADH-CAMELLIA256-SHA", "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA", "SSLv3", "DH", "None", "Camellia(256)", "SHA1"},
        {0xC009, "ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLSv1", "ECDH", "ECDSA", "AES(128)", "SHA1"},
        {0xC013, "ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLSv1", "ECDH", "RSA", "AES(128)", "SHA1"},
        {0x0033, "DHE-RSA-AES128-SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "SSLv3", "DH", "RSA", "AES(128)", "SHA1"},
        {0x0032, "DHE-DSS-AES128-SHA", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "SSLv3", "DH", "DSS", "AES(128)", "SHA1"},
        {0x0045, "DHE-RSA-CAMELLIA128-SHA", "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA", "SSLv3", "DH", "RSA", "Camellia(128)", "SHA1"},
        {0x0044, "DHE-DSS-CAMELLIA128-SHA", "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA", "SSLv3", "DH", "DSS", "Camellia(128)", "SHA1"},
        {0xC018, "AECDH-AES128-SHA", "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", "TLSv1", "ECDH", "None", "AES(128)", "SHA1"},
        {0x0034, "ADH-AES128-SHA", "TLS_DH_anon_WITH_AES_128_CBC_SHA", "SSLv3", "DH", "None", "AES(128)", "SHA1"},
        {0x0046, "ADH-CAMELLIA128-SHA", "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA", "SSLv3", "DH", "None", "Camellia(128)", "SHA1"},
        {0x00AD, "RSA-PSK-AES256-GCM-SHA384", "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384", "TLSv1.2", "RSAPSK", "RSA", "AESGCM(256)", "AEAD"},
        {0x00AB, "DHE-PSK-AES256-GCM-SHA384", "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384", "TLSv1.2", "DHEPSK", "PSK", "AESGCM(256)", "AEAD"},
        {0xCCAE, "RSA-PSK-CHACHA20-POLY1305", "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", "TLSv1.2", "RSAPSK", "RSA", "CHACHA20/POLY1305(256)", "AEAD"},
        {0xCCAD, "DHE-PSK-CHACHA20-POLY1305", "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "TLSv1.2", "DHEPSK", "PSK", "CHACHA20/POLY1305(256)", "AEAD"},
        {0xCCAC, "ECDHE-PSK-CHACHA20-POLY1305", "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "TLSv1.2", "ECDHEPSK", "PSK", "CHACHA20/POLY1305(256)", "AEAD"},
        {0xC0AB, "DHE-PSK-AES256-CCM8", "TLS_PSK_DHE_WITH_AES_256_CCM_8", "TLSv1.2", "DHEPSK", "PSK", "AESCCM8(256)", "AEAD"},
        {0xC0A7, "DHE-PSK-AES256-CCM", "TLS_DHE_PSK_WITH_AES_256_CCM", "TLSv1.2", "DHEPSK", "PSK", "AESCCM(256)", "AEAD"},
        {0xC06F, "RSA-PSK-ARIA256-GCM-SHA384", "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384", "TLSv1.2", "RSAPSK", "RSA", "ARIAGCM(256)", "AEAD"},
        {0xC06D, "DHE-PSK-ARIA256-GCM-SHA384", "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384", "TLSv1.2", "DHEPSK", "PSK", "ARIAGCM(256)", "AEAD"},
        {0x009D, "AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLSv1.2", "RSA", "RSA", "AESGCM(256)", "AEAD"},
        {0xC0A1, "AES256-CCM8", "TLS_RSA_WITH_AES_256_CCM_8", "TLSv1.2", "RSA", "RSA", "AESCCM8(256)", "AEAD"},
        {0xC09D, "AES256-CCM", "TLS_RSA_WITH_AES_256_CCM", "TLSv1.2", "RSA", "RSA", "AESCCM(256)", "AEAD"},
        {0xC051, "ARIA256-GCM-SHA384", "TLS_RSA_WITH_ARIA_256_GCM_SHA384", "TLSv1.2", "RSA", "RSA", "ARIAGCM(256)", "AEAD"},
        {0x00A9, "PSK-AES256-GCM-SHA384", "TLS_PSK_WITH_AES_256_GCM_SHA384", "TLSv1.2", "PSK", "PSK", "AESGCM(256)", "AEAD"},
        {0xCCAB, "PSK-CHACHA20-POLY1305", "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", "TLSv1.2", "PSK", "PSK", "CHACHA20/POLY1305(256)", "AEAD"},
        {0xC0A9, "PSK-AES256-CCM8", "TLS_PSK_WITH_AES_256_CCM_8", "TLSv1.2", "PSK", "PSK", "AESCCM8(256)", "AEAD"},
        {0xC0A5, "PSK-AES256-CCM", "TLS_PSK_WITH_AES_256_CCM", "TLSv1.2", "PSK", "PSK", "AESCCM(256)", "AEAD"},
        {0xC06B, "PSK-ARIA256-GCM-SHA384", "TLS_PSK_WITH_ARIA_256_GCM_SHA384", "TLSv1.2", "PSK", "PSK", "ARIAGCM(256)", "AEAD"},
        {0x00AC, "RSA-PSK-AES128-GCM-SHA256", "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256", "TLSv1.2", "RSAPSK", "RSA", "AESGCM(128)", "AEAD"},
        {0x00AA, "DHE-PSK-AES128-GCM-SHA256", "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", "TLSv1.2", "DHEPSK", "PSK", "AESGCM(128)", "AEAD"},
        {0xC0AA, "DHE-PSK-AES128-CCM8", "TLS_PSK_DHE_WITH_AES_128_CCM_8", "TLSv1.2", "DHEPSK", "PSK", "AESCCM8(128)", "AEAD"},
        {0xC0A6, "DHE-PSK-AES128-CCM", "TLS_DHE_PSK_WITH_AES_128_CCM", "TLSv1.2", "DHEPSK", "PSK", "AESCCM(128)", "AEAD"},
        {0xC06E, "RSA-PSK-ARIA128-GCM-SHA256", "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256", "TLSv1.2", "RSAPSK", "RSA", "ARIAGCM(128)", "AEAD"},
        {0xC06C, "DHE-PSK-ARIA128-GCM-SHA256", "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256", "TLSv1.2", "DHEPSK", "PSK", "ARIAGCM(128)", "AEAD"},
        {0x009C, "AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLSv1.2", "RSA", "RSA", "AESGCM(128)", "AEAD"},
        {0xC0A0, "AES128-CCM8", "TLS_RSA_WITH_AES_128_CCM_8", "TLSv1.2", "RSA", "RSA", "AESCCM8(128)", "AEAD"},
        {0xC09C, "AES128-CCM", "TLS_RSA_WITH_AES_128_CCM", "TLSv1.2", "RSA", "RSA", "AESCCM(128)", "AEAD"},
        {0xC050, "ARIA128-GCM-SHA256", "TLS_RSA_WITH_ARIA_128_GCM_SHA256", "TLSv1.2", "RSA", "RSA", "ARIAGCM(128)", "AEAD"},
        {0x00A8, "PSK-AES128-GCM-SHA256", "TLS_PSK_WITH_AES_128_GCM_SHA256", "TLSv1.2", "PSK", "PSK", "AESGCM(128)", "AEAD"},
        {0xC0A8, "PSK-AES128-CCM8", "TLS_PSK_WITH_AES_128_CCM_8", "TLSv1.2", "PSK", "PSK", "AESCCM8(128)", "AEAD"},
        {0xC0A4, "PSK-AES128-CCM", "TLS_PSK_WITH_AES_128_CCM", "TLSv1.2", "PSK", "PSK", "AESCCM(128)", "AEAD"},
        {0xC06A, "PSK-ARIA128-GCM-SHA256", "TLS_PSK_WITH_ARIA_128_GCM_SHA256", "TLSv1.2", "PSK", "PSK", "ARIAGCM(128)", "AEAD"},
        {0x003D, "AES256-SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256", "TLSv1.2", "RSA", "RSA", "AES(256)", "SHA256"},
        {0x00C0, "CAMELLIA256-SHA256", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256", "TLSv1.2", "RSA", "RSA", "Camellia(256)", "SHA256"},
        {0x003C, "AES128-SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLSv1.2", "RSA", "RSA", "AES(128)", "SHA256"},
        {0x00BA, "CAMELLIA128-SHA256", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256", "TLSv1.2", "RSA", "RSA", "Camellia(128)", "SHA256"},
        {0xC038, "ECDHE-PSK-AES256-CBC-SHA384", "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384", "TLSv1", "ECDHEPSK", "PSK", "AES(256)", "SHA384"},
        {0xC036, "ECDHE-PSK-AES256-CBC-SHA", "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", "TLSv1", "ECDHEPSK", "PSK", "AES(256)", "SHA1"},
        {0xC022, "SRP-DSS-AES-256-CBC-SHA", "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA", "SSLv3", "SRP", "DSS", "AES(256)", "SHA1"},
        {0xC021, "SRP-RSA-AES-256-CBC-SHA", "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA", "SSLv3", "SRP", "RSA", "AES(256)", "SHA1"},
        {0xC020, "SRP-AES-256-CBC-SHA", "TLS_SRP_SHA_WITH_AES_256_CBC_SHA", "SSLv3", "SRP", "SRP", "AES(256)", "SHA1"},
        {0x00B7, "RSA-PSK-AES256-CBC-SHA384", "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384", "TLSv1", "RSAPSK", "RSA", "AES(256)", "SHA384"},
        {0x00B3, "DHE-PSK-AES256-CBC-SHA384", "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384", "TLSv1", "DHEPSK", "PSK", "AES(256)", "SHA384"},
        {0x0095, "RSA-PSK-AES256-CBC-SHA", "TLS_RSA_PSK_WITH_AES_256_CBC_SHA", "SSLv3", "RSAPSK", "RSA", "AES(256)", "SHA1"},
        {0x0091, "DHE-PSK-AES256-CBC-SHA", "TLS_DHE_PSK_WITH_AES_256_CBC_SHA", "SSLv3", "DHEPSK", "PSK", "AES(256)", "SHA1"},
        {0xC09B, "ECDHE-PSK-CAMELLIA256-SHA384", "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384", "TLSv1", "ECDHEPSK", "PSK", "Camellia(256)", "SHA384"},
        {0xC099, "RSA-PSK-CAMELLIA256-SHA384", "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384", "TLSv1", "RSAPSK", "RSA", "Camellia(256)", "SHA384"},
        {0xC097, "DHE-PSK-CAMELLIA256-SHA384", "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384", "TLSv1", "DHEPSK", "PSK", "Camellia(256)", "SHA384"},
        {0x0035, "AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", "SSLv3", "RSA", "RSA", "AES(256)", "SHA1"},
        {0x0084, "CAMELLIA256-SHA", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", "SSLv3", "RSA", "RSA", "Camellia(256)", "SHA1"},
        {0x00AF, "PSK-AES256-CBC-SHA384", "TLS_PSK_WITH_AES_256_CBC_SHA384", "TLSv1", "PSK", "PSK", "AES(256)", "SHA384"},
        {0x008D, "PSK-AES256-CBC-SHA", "TLS_PSK_WITH_AES_256_CBC_SHA", "SSLv3", "PSK", "PSK", "AES(256)", "SHA1"},
        {0xC095, "PSK-CAMELLIA256-SHA384", "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384", "TLSv1", "PSK", "PSK", "Camellia(256)", "SHA384"},
        {0xC037, "ECDHE-PSK-AES128-CBC-SHA256", "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", "TLSv1", "ECDHEPSK", "PSK", "AES(128)", "SHA256"},
        {0xC035, "ECDHE-PSK-AES128-CBC-SHA", "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", "TLSv1", "ECDHEPSK", "PSK", "AES(128)", "SHA1"},
        {0xC01F, "SRP-DSS-AES-128-CBC-SHA", "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA", "SSLv3", "SRP", "DSS", "AES(128)", "SHA1"},
        {0xC01E, "SRP-RSA-AES-128-CBC-SHA", "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA", "SSLv3", "SRP", "RSA", "AES(128)", "SHA1"},
        {0xC01D, "SRP-AES-128-CBC-SHA", "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", "SSLv3", "SRP", "SRP", "AES(128)", "SHA1"},
        {0x00B6, "RSA-PSK-AES128-CBC-SHA256", "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256", "TLSv1", "RSAPSK", "RSA", "AES(128)", "SHA256"},
        {0x00B2, "DHE-PSK-AES128-CBC-SHA256", "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256", "TLSv1", "DHEPSK", "PSK", "AES(128)", "SHA256"},
        {0x0094, "RSA-PSK-AES128-CBC-SHA", "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", "SSLv3", "RSAPSK", "RSA", "AES(128)", "SHA1"},
        {0x0090, "DHE-PSK-AES128-CBC-SHA", "TLS_DHE_PSK_WITH_AES_128_CBC_SHA", "SSLv3", "DHEPSK", "PSK", "AES(128)", "SHA1"},
        {0xC09A, "ECDHE-PSK-CAMELLIA128-SHA256", "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256", "TLSv1", "ECDHEPSK", "PSK", "Camellia(128)", "SHA256"},
        {0xC098, "RSA-PSK-CAMELLIA128-SHA256", "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256", "TLSv1", "RSAPSK", "RSA", "Camellia(128)", "SHA256"},
        {0xC096, "DHE-PSK-CAMELLIA128-SHA256", "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256", "TLSv1", "DHEPSK", "PSK", "Camellia(128)", "SHA256"},
        {0x002F, "AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", "SSLv3", "RSA", "RSA", "AES(128)", "SHA1"},
        {0x0041, "CAMELLIA128-SHA", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "SSLv3", "RSA", "RSA", "Camellia(128)", "SHA1"},
        {0x00AE, "PSK-AES128-CBC-SHA256", "TLS_PSK_WITH_AES_128_CBC_SHA256", "TLSv1", "PSK", "PSK", "AES(128)", "SHA256"},
        {0x008C, "PSK-AES128-CBC-SHA", "TLS_PSK_WITH_AES_128_CBC_SHA", "SSLv3", "PSK", "PSK", "AES(128)", "SHA1"},
        {0xC094, "PSK-CAMELLIA128-SHA256", "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256", "TLSv1", "PSK", "PSK", "Camellia(128)", "SHA256"},
        {0xC006, "ECDHE-ECDSA-NULL-SHA", "TLS_ECDHE_ECDSA_WITH_NULL_SHA", "TLSv1", "ECDH", "ECDSA", "None", "SHA1"},
        {0xC010, "ECDHE-RSA-NULL-SHA", "TLS_ECDHE_RSA_WITH_NULL_SHA", "TLSv1", "ECDH", "RSA", "None", "SHA1"},
        {0xC015, "AECDH-NULL-SHA", "TLS_ECDH_anon_WITH_NULL_SHA", "TLSv1", "ECDH", "None", "None", "SHA1"},
        {0x003B, "NULL-SHA256", "TLS_RSA_WITH_NULL_SHA256", "TLSv1.2", "RSA", "RSA", "None", "SHA256"},
        {0xC03B, "ECDHE-PSK-NULL-SHA384", "TLS_ECDHE_PSK_WITH_NULL_SHA384", "TLSv1", "ECDHEPSK", "PSK", "None", "SHA384"},
        {0xC03A, "ECDHE-PSK-NULL-SHA256", "TLS_ECDHE_PSK_WITH_NULL_SHA256", "TLSv1", "ECDHEPSK", "PSK", "None", "SHA256"},
        {0xC039, "ECDHE-PSK-NULL-SHA", "TLS_ECDHE_PSK_WITH_NULL_SHA", "TLSv1", "ECDHEPSK", "PSK", "None", "SHA1"},
        {0x00B9, "RSA-PSK-NULL-SHA384", "TLS_RSA_PSK_WITH_NULL_SHA384", "TLSv1", "RSAPSK", "RSA", "None", "SHA384"},
        {0x00B8, "RSA-PSK-NULL-SHA256", "TLS_RSA_PSK_WITH_NULL_SHA256", "TLSv1", "RSAPSK", "RSA", "None", "SHA256"},
        {0x00B5, "DHE-PSK-NULL-SHA384", "TLS_DHE_PSK_WITH_NULL_SHA384", "TLSv1", "DHEPSK", "PSK", "None", "SHA384"},
        {0x00B4, "DHE-PSK-NULL-SHA256", "TLS_DHE_PSK_WITH_NULL_SHA256", "TLSv1", "DHEPSK", "PSK", "None", "SHA256"},
        {0x002E, "RSA-PSK-NULL-SHA", "TLS_RSA_PSK_WITH_NULL_SHA", "SSLv3", "RSAPSK", "RSA", "None", "SHA1"},
        {0x002D, "DHE-PSK-NULL-SHA", "TLS_DHE_PSK_WITH_NULL_SHA", "SSLv3", "DHEPSK", "PSK", "None", "SHA1"},
        {0x0002, "NULL-SHA", "TLS_RSA_WITH_NULL_SHA", "SSLv3", "RSA", "RSA", "None", "SHA1"},
        {0x0001, "NULL-MD5", "TLS_RSA_WITH_NULL_MD5", "SSLv3", "RSA", "RSA", "None", "MD5"},
        {0x00B1, "PSK-NULL-SHA384", "TLS_PSK_WITH_NULL_SHA384", "TLSv1", "PSK", "PSK", "None", "SHA384"},
        {0x00B0, "PSK-NULL-SHA256", "TLS_PSK_WITH_NULL_SHA256", "TLSv1", "PSK", "PSK", "None", "SHA256"},
        {0x002C, "PSK-NULL-SHA", "TLS_PSK_WITH_NULL_SHA", "SSLv3", "PSK", "PSK", "None", "SHA1"},
        /* clang-format on */
};

static void test_sorted_unique(void **state)
{
	size_t n, i, j;
	const struct tlss_suite *t = tlss_suites(&n);

	(void)state;
	assert_true(n > 300);
	for (i = 1; i < n; i++)
		assert_true(t[i - 1].id < t[i].id);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			assert_string_not_equal(t[i].name, t[j].name);
			assert_string_not_equal(t[i].iana, t[j].iana);
		}
}

static void test_openssl_snapshot(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(openssl_snapshot); i++) {
		const struct tlss_suite *s =
		        tlss_suite_by_id(openssl_snapshot[i].id);

		if (s == NULL)
			fail_msg("0x%04x %s missing", openssl_snapshot[i].id,
			         openssl_snapshot[i].name);
		assert_string_equal(s->name, openssl_snapshot[i].name);
		assert_string_equal(s->iana, openssl_snapshot[i].iana);
		assert_string_equal(tlsh_version_name(s->min_version),
		                    openssl_snapshot[i].version);
		assert_string_equal(s->kx, openssl_snapshot[i].kx);
		assert_string_equal(s->au, openssl_snapshot[i].au);
		assert_string_equal(s->enc, openssl_snapshot[i].enc);
		assert_string_equal(s->mac, openssl_snapshot[i].mac);
		assert_false(s->flags & (TLSS_F_NOT_OPENSSL | TLSS_F_DRAFT));
		assert_ptr_equal(tlss_suite_by_name(s->name), s);
	}
}

static int is_fs_kx(enum tlss_kx k)
{
	return k == TLSS_KX_DHE || k == TLSS_KX_ECDHE || k == TLSS_KX_DHE_PSK ||
	       k == TLSS_KX_ECDHE_PSK || k == TLSS_KX_ANY;
}

/* What the flags, strength and words must agree on, for every row. */
static void test_row_rules(void **state)
{
	size_t n, i;
	const struct tlss_suite *t = tlss_suites(&n);

	(void)state;
	for (i = 0; i < n; i++) {
		const struct tlss_suite *s = &t[i];
		unsigned f = s->flags;

		if (f & TLSS_F_SCSV) {
			assert_int_equal(s->strength, TLSS_STRENGTH_NONE);
			assert_int_equal(s->kx_kind, TLSS_KX_NONE);
			continue;
		}
		assert_true(s->name[0] != '\0' && s->kx[0] != '\0' &&
		            s->au[0] != '\0' && s->enc[0] != '\0' &&
		            s->mac[0] != '\0');
		assert_true(strncmp(s->iana, "TLS_", 4) == 0);
		assert_non_null(tlsh_version_name(s->min_version));
		assert_true(s->min_version == TLSS_SSL3 ||
		            s->min_version == TLSS_TLS1 ||
		            s->min_version == TLSS_TLS12 ||
		            s->min_version == TLSS_TLS13);
		assert_int_equal(!!(f & TLSS_F_FS), is_fs_kx(s->kx_kind));
		assert_false((f & TLSS_F_CBC) && (f & TLSS_F_AEAD));
		if (f & TLSS_F_AEAD)
			assert_string_equal(s->mac, "AEAD");
		assert_int_equal(!!(f & TLSS_F_ANON),
		                 strcmp(s->au, "None") == 0);
		assert_int_equal(strcmp(s->enc, "None") == 0, s->bits == 0);
		assert_int_equal(strcmp(s->enc, "None") == 0,
		                 s->strength == TLSS_STRENGTH_NULL);
		if (s->strength != TLSS_STRENGTH_NULL)
			assert_int_equal(!!(f & TLSS_F_EXPORT),
			                 s->strength == TLSS_STRENGTH_EXPORT);
		if (f & TLSS_F_EXPORT)
			assert_true(s->bits <= 56);
		if (s->strength == TLSS_STRENGTH_HIGH)
			assert_true(s->bits >= 128);
		assert_int_equal(s->min_version == TLSS_TLS13,
		                 s->kx_kind == TLSS_KX_ANY);
		if (s->min_version == TLSS_TLS13)
			assert_string_equal(s->name, s->iana);
		assert_int_equal(!!(f & TLSS_F_PSK),
		                 s->kx_kind == TLSS_KX_PSK ||
		                         s->kx_kind == TLSS_KX_DHE_PSK ||
		                         s->kx_kind == TLSS_KX_ECDHE_PSK ||
		                         s->kx_kind == TLSS_KX_RSA_PSK);
		if (s->kx_kind == TLSS_KX_ECDHE || s->kx_kind == TLSS_KX_ECDH ||
		    strcmp(s->au, "ECDSA") == 0)
			assert_true(f & TLSS_F_ECC);
		assert_ptr_equal(tlss_suite_by_id(s->id), s);
		assert_ptr_equal(tlss_suite_by_name(s->name), s);
		assert_ptr_equal(tlss_suite_by_iana(s->iana), s);
	}
}

/* Strength and flags of suites a scan will meet, including the ones
 * Debian's OpenSSL no longer has. */
static const struct {
	const char *name;
	uint16_t id;
	enum tlss_strength strength;
	unsigned flags;
	unsigned bits;
	const char *kx, *enc;
} classes[] = {
        {"EXP-RC4-MD5", 0x0003, TLSS_STRENGTH_EXPORT, TLSS_F_EXPORT, 40,
         "RSA(512)", "RC4(40)"},
        {"EXP-RC2-CBC-MD5", 0x0006, TLSS_STRENGTH_EXPORT,
         TLSS_F_EXPORT | TLSS_F_CBC, 40, "RSA(512)", "RC2(40)"},
        {"EXP-EDH-RSA-DES-CBC-SHA", 0x0014, TLSS_STRENGTH_EXPORT,
         TLSS_F_EXPORT | TLSS_F_CBC | TLSS_F_FS, 40, "DH(512)", "DES(40)"},
        {"EXP-ADH-RC4-MD5", 0x0017, TLSS_STRENGTH_EXPORT,
         TLSS_F_EXPORT | TLSS_F_ANON | TLSS_F_FS, 40, "DH(512)", "RC4(40)"},
        {"EXP1024-DES-CBC-SHA", 0x0062, TLSS_STRENGTH_EXPORT,
         TLSS_F_EXPORT | TLSS_F_CBC | TLSS_F_DRAFT, 56, "RSA(1024)", "DES(56)"},
        {"RC4-MD5", 0x0004, TLSS_STRENGTH_LOW, 0, 128, "RSA", "RC4(128)"},
        {"RC4-SHA", 0x0005, TLSS_STRENGTH_LOW, 0, 128, "RSA", "RC4(128)"},
        {"ECDHE-RSA-RC4-SHA", 0xC011, TLSS_STRENGTH_LOW, TLSS_F_FS | TLSS_F_ECC,
         128, "ECDH", "RC4(128)"},
        {"DES-CBC-SHA", 0x0009, TLSS_STRENGTH_LOW, TLSS_F_CBC, 56, "RSA",
         "DES(56)"},
        {"EDH-RSA-DES-CBC-SHA", 0x0015, TLSS_STRENGTH_LOW,
         TLSS_F_CBC | TLSS_F_FS, 56, "DH", "DES(56)"},
        {"DES-CBC3-SHA", 0x000A, TLSS_STRENGTH_MEDIUM, TLSS_F_CBC, 112, "RSA",
         "3DES(168)"},
        {"DHE-RSA-DES-CBC3-SHA", 0x0016, TLSS_STRENGTH_MEDIUM,
         TLSS_F_CBC | TLSS_F_FS, 112, "DH", "3DES(168)"},
        {"ECDHE-RSA-DES-CBC3-SHA", 0xC012, TLSS_STRENGTH_MEDIUM,
         TLSS_F_CBC | TLSS_F_FS | TLSS_F_ECC, 112, "ECDH", "3DES(168)"},
        {"IDEA-CBC-SHA", 0x0007, TLSS_STRENGTH_MEDIUM, TLSS_F_CBC, 128, "RSA",
         "IDEA(128)"},
        {"SEED-SHA", 0x0096, TLSS_STRENGTH_MEDIUM, TLSS_F_CBC, 128, "RSA",
         "SEED(128)"},
        {"ADH-AES128-SHA", 0x0034, TLSS_STRENGTH_ANON,
         TLSS_F_ANON | TLSS_F_CBC | TLSS_F_FS, 128, "DH", "AES(128)"},
        {"ADH-DES-CBC-SHA", 0x001A, TLSS_STRENGTH_ANON,
         TLSS_F_ANON | TLSS_F_CBC | TLSS_F_FS, 56, "DH", "DES(56)"},
        {"AECDH-AES256-SHA", 0xC019, TLSS_STRENGTH_ANON,
         TLSS_F_ANON | TLSS_F_CBC | TLSS_F_FS | TLSS_F_ECC, 256, "ECDH",
         "AES(256)"},
        {"NULL-MD5", 0x0001, TLSS_STRENGTH_NULL, 0, 0, "RSA", "None"},
        {"AECDH-NULL-SHA", 0xC015, TLSS_STRENGTH_NULL,
         TLSS_F_ANON | TLSS_F_FS | TLSS_F_ECC, 0, "ECDH", "None"},
        {"TLS_SHA256_SHA256", 0xC0B4, TLSS_STRENGTH_NULL,
         TLSS_F_FS | TLSS_F_NOT_OPENSSL, 0, "any", "None"},
        {"DH-RSA-AES128-SHA", 0x0031, TLSS_STRENGTH_HIGH, TLSS_F_CBC, 128,
         "DH/RSA", "AES(128)"},
        {"ECDH-ECDSA-AES128-GCM-SHA256", 0xC02D, TLSS_STRENGTH_HIGH,
         TLSS_F_AEAD | TLSS_F_ECC, 128, "ECDH/ECDSA", "AESGCM(128)"},
        {"ECDHE-RSA-AES128-GCM-SHA256", 0xC02F, TLSS_STRENGTH_HIGH,
         TLSS_F_AEAD | TLSS_F_FS | TLSS_F_ECC, 128, "ECDH", "AESGCM(128)"},
        {"ECDHE-ECDSA-CHACHA20-POLY1305", 0xCCA9, TLSS_STRENGTH_HIGH,
         TLSS_F_AEAD | TLSS_F_FS | TLSS_F_ECC, 256, "ECDH",
         "CHACHA20/POLY1305(256)"},
        {"ECDHE-RSA-CHACHA20-POLY1305-OLD", 0xCC13, TLSS_STRENGTH_HIGH,
         TLSS_F_AEAD | TLSS_F_FS | TLSS_F_ECC | TLSS_F_NOT_OPENSSL |
                 TLSS_F_DRAFT,
         256, "ECDH", "CHACHA20/POLY1305(256)"},
        {"CAMELLIA128-GCM-SHA256", 0xC07A, TLSS_STRENGTH_HIGH,
         TLSS_F_AEAD | TLSS_F_NOT_OPENSSL, 128, "RSA", "CamelliaGCM(128)"},
        {"ECDHE-ECDSA-ARIA128-SHA256", 0xC048, TLSS_STRENGTH_HIGH,
         TLSS_F_CBC | TLSS_F_FS | TLSS_F_ECC | TLSS_F_NOT_OPENSSL, 128, "ECDH",
         "ARIA(128)"},
        {"GOST2001-GOST89-GOST89", 0x0081, TLSS_STRENGTH_HIGH, TLSS_F_DRAFT,
         256, "GOST", "GOST89(256)"},
        {"KRB5-DES-CBC3-SHA", 0x001F, TLSS_STRENGTH_MEDIUM, TLSS_F_CBC, 112,
         "KRB5", "3DES(168)"},
        {"SRP-AES-128-CBC-SHA", 0xC01D, TLSS_STRENGTH_HIGH,
         TLSS_F_CBC | TLSS_F_SRP, 128, "SRP", "AES(128)"},
        {"TLS_AES_128_GCM_SHA256", 0x1301, TLSS_STRENGTH_HIGH,
         TLSS_F_AEAD | TLSS_F_FS, 128, "any", "AESGCM(128)"},
        {"TLS_AES_128_CCM_8_SHA256", 0x1305, TLSS_STRENGTH_HIGH,
         TLSS_F_AEAD | TLSS_F_FS, 128, "any", "AESCCM8(128)"},
        {"TLS_FALLBACK_SCSV", 0x5600, TLSS_STRENGTH_NONE, TLSS_F_SCSV, 0, "",
         ""},
        {"TLS_EMPTY_RENEGOTIATION_INFO_SCSV", 0x00FF, TLSS_STRENGTH_NONE,
         TLSS_F_SCSV, 0, "", ""},
};

static void test_classes(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(classes); i++) {
		const struct tlss_suite *s =
		        tlss_suite_by_name(classes[i].name);

		if (s == NULL)
			fail_msg("%s missing", classes[i].name);
		assert_int_equal(s->id, classes[i].id);
		if (s->strength != classes[i].strength)
			fail_msg("%s: %s", s->name,
			         tlss_strength_name(s->strength));
		assert_int_equal(s->flags, classes[i].flags);
		assert_int_equal(s->bits, classes[i].bits);
		assert_string_equal(s->kx, classes[i].kx);
		assert_string_equal(s->enc, classes[i].enc);
	}
}

static void test_lookups(void **state)
{
	static const uint16_t unknown[] = {0x0000, 0x001C, 0x0047, 0x0A0A,
	                                   0x1306, 0xC100, 0xFEFF, 0xFFFF};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(unknown); i++)
		assert_null(tlss_suite_by_id(unknown[i]));
	assert_null(tlss_suite_by_name(NULL));
	assert_null(tlss_suite_by_name(""));
	assert_null(tlss_suite_by_name("ecdhe-rsa-aes128-gcm-sha256"));
	assert_null(tlss_suite_by_iana(NULL));
	assert_int_equal(
	        tlss_suite_by_iana("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")->id,
	        0xC02F);
	assert_string_equal(tlss_suite_by_id(0xC02F)->name,
	                    "ECDHE-RSA-AES128-GCM-SHA256");
	assert_string_equal(tlss_strength_name(TLSS_STRENGTH_HIGH), "HIGH");
	assert_string_equal(tlss_strength_name(TLSS_STRENGTH_ANON), "ANON");
	assert_string_equal(tlss_strength_name(TLSS_STRENGTH_LAST), "?");
	assert_string_equal(tlss_strength_name((enum tlss_strength) - 1), "?");
	assert_string_equal(tlss_kx_name(TLSS_KX_ECDHE), "ECDHE");
	assert_string_equal(tlss_kx_name(TLSS_KX_LAST), "?");
	for (i = 0; i < TLSS_STRENGTH_LAST; i++)
		assert_string_not_equal(tlss_strength_name(i), "?");
	for (i = 0; i < TLSS_KX_LAST; i++)
		assert_string_not_equal(tlss_kx_name(i), "?");
}

static int listed(const uint16_t *ids, size_t n, uint16_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static void test_for_version(void **state)
{
	static uint16_t ids[1024];
	static const uint16_t versions[] = {TLSS_SSL3, TLSS_TLS1, TLSS_TLS11,
	                                    TLSS_TLS12, TLSS_TLS13};
	size_t n, all, i, v, prev = 0;
	const struct tlss_suite *t = tlss_suites(&all);

	(void)state;
	for (v = 0; v < NELEM(versions); v++) {
		n = tlss_suites_for_version(versions[v], ids, NELEM(ids));
		assert_true(n > 0 && n <= NELEM(ids));
		for (i = 0; i < n; i++) {
			const struct tlss_suite *s = tlss_suite_by_id(ids[i]);

			assert_non_null(s);
			assert_false(s->flags & TLSS_F_SCSV);
			assert_int_equal(s->min_version == TLSS_TLS13,
			                 versions[v] == TLSS_TLS13);
			if (versions[v] < TLSS_TLS12)
				assert_true(s->min_version <= TLSS_TLS1);
			if (i > 0)
				assert_true(ids[i - 1] < ids[i]);
		}
		if (versions[v] != TLSS_TLS13)
			assert_true(n >= prev); /* each version adds */
		prev = n;
	}
	/* TLS 1.2: everything but the 1.3 suites and the SCSVs */
	n = tlss_suites_for_version(TLSS_TLS12, ids, NELEM(ids));
	for (i = 0; i < all; i++)
		assert_int_equal(listed(ids, n, t[i].id),
		                 t[i].min_version != TLSS_TLS13 &&
		                         !(t[i].flags & TLSS_F_SCSV));
	assert_true(listed(ids, n, 0x0003)); /* EXP-RC4-MD5 */
	/* SSLv3: the "TLSv1" ECC suites too, no SHA-256 or GCM ones */
	n = tlss_suites_for_version(TLSS_SSL3, ids, NELEM(ids));
	assert_true(listed(ids, n, 0xC013));  /* ECDHE-RSA-AES128-SHA */
	assert_true(listed(ids, n, 0x0005));  /* RC4-SHA */
	assert_false(listed(ids, n, 0x003C)); /* AES128-SHA256 */
	assert_false(listed(ids, n, 0xC02F));
	assert_int_equal(n, tlss_suites_for_version(TLSS_TLS11, NULL, 0));
	/* TLS 1.3 */
	n = tlss_suites_for_version(TLSS_TLS13, ids, NELEM(ids));
	assert_true(listed(ids, n, 0x1301) && listed(ids, n, 0x1303) &&
	            listed(ids, n, 0x1305));
	assert_false(listed(ids, n, 0xC02F));
	/* a cut list says how long it would be, and writes only cap */
	ids[3] = 0xBEEF;
	assert_int_equal(tlss_suites_for_version(TLSS_TLS12, ids, 3),
	                 tlss_suites_for_version(TLSS_TLS12, NULL, 0));
	assert_int_equal(ids[3], 0xBEEF);
	/* not versions */
	assert_int_equal(tlss_suites_for_version(0x0200, ids, 10), 0);
	assert_int_equal(tlss_suites_for_version(0x0305, ids, 10), 0);
	assert_int_equal(tlss_suites_for_version(0x7f1c, ids, 10), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sorted_unique),
	        cmocka_unit_test(test_openssl_snapshot),
	        cmocka_unit_test(test_row_rules),
	        cmocka_unit_test(test_classes),
	        cmocka_unit_test(test_lookups),
	        cmocka_unit_test(test_for_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
