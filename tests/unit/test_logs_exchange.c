/* test_logs_exchange.c - Exchange's CSV logs (lib/logs/exchange.c), through
 * the dispatcher: the header of tests/data/logs/exchange-smtp-receive.log
 * and rows of its sessions in order (the session table carries the AUTH
 * name to the 235 and MAIL FROM / RCPT TO to a refusal), rows of
 * exchange-msgtrk.log, rows written from Microsoft's field lists for
 * what the samples lack (several recipients, DEFER, SEND, IPv6, quoting),
 * headers (a Send log, a W3C one that is not Exchange's, 1000 fields, a
 * row before any header), the totals of both files against their
 * .expected.json, and hostile lines: every prefix of every sample line,
 * 100 KB lines, all byte values, each ending at an unreadable page
 * (logs_test.h). */
#include "logs_int.h"
#include "logs_test.h"

#include "banned.h"

#define REF_TIME 1796621400

#define SMTP SMTPROBE_LF_EXCHANGE_SMTP
#define TRK  SMTPROBE_LF_EXCHANGE_TRACKING
#define CLI  "EX01\\Client Frontend EX01,"
#define DEF  "EX01\\Default Frontend EX01,"
#define RECV_FIELDS                                                            \
	"#Fields: date-time,connector-id,session-id,sequence-number,"          \
	"local-endpoint,remote-endpoint,event,data,context"
#define TRK_FIELDS                                                             \
	"#Fields: date-time,client-ip,client-hostname,server-ip,"              \
	"server-hostname,source-context,connector-id,source,event-id,"         \
	"internal-message-id,message-id,network-message-id,"                   \
	"recipient-address,recipient-status,total-bytes,recipient-count,"      \
	"related-recipient-address,reference,message-subject,"                 \
	"sender-address,return-path,message-info,directionality,tenant-id,"    \
	"original-client-ip,original-server-ip,custom-data,"                   \
	"transport-traffic-type,log-id,schema-version"

/* exchange-smtp-receive.log: the header, then rows of sessions 5 (alice
 * authenticates and sends), 10 (alice as bob: 5.7.60 after DATA), 12 (a
 * wrong password), 22 (MAIL in clear), 23 (relay), 31 (unknown
 * recipient), 34 (not TLS) */
static void test_receive(void **state)
{
	static const struct logst_want w[] = {
	        /* #Software comes before the log is named */
	        {.line = "#Software: Microsoft Exchange Server", .format = TRK},
	        {.line = "#Version: 15.02.1544.004", .format = TRK},
	        {.line = "#Log-type: SMTP Receive Protocol Log",
	         .format = SMTP},
	        {.line = "#Date: 2026-01-15T09:00:00.000Z", .format = SMTP},
	        {.line = "#Note: constructed by tests/harness/log_traffic.py",
	         .format = SMTP},
	        {.line = RECV_FIELDS, .format = SMTP},
	        {.line = "2026-01-15T09:00:10.000Z," CLI "08DE3B1A2C4D0005,0,"
	                 "127.0.0.1:587,127.0.0.10:40005,+,,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_CONNECT,
	         .ts = 1768467610,
	         .client = "127.0.0.10"},
	        {.line = "2026-01-15T09:00:10.001Z," CLI "08DE3B1A2C4D0005,1,"
	                 "127.0.0.1:587,127.0.0.10:40005,>,\"220 "
	                 "ex01.example.test Microsoft ESMTP MAIL Service "
	                 "ready at Thu, 15 Jan 2026 09:00:10 +0000\",",
	         .format = SMTP,
	         .client = ""},
	        {.line = "2026-01-15T09:00:10.028Z," CLI "08DE3B1A2C4D0005,9,"
	                 "127.0.0.1:587,127.0.0.10:40005,*,,\"TLS protocol "
	                 "SP_PROT_TLS1_2_SERVER negotiation succeeded using "
	                 "bulk encryption algorithm CALG_AES_256 with "
	                 "strength 256 bits, MAC hash algorithm CALG_SHA_384 "
	                 "with strength 0 bits and key exchange algorithm "
	                 "CALG_ECDH_EPHEM with strength 384 bits\"",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_TLS_OK,
	         .client = "127.0.0.10",
	         .protocol = "TLSv1.2",
	         .cipher = "CALG_AES_256"},
	        {.line = "2026-01-15T09:00:10.031Z," CLI "08DE3B1A2C4D0005,12,"
	                 "127.0.0.1:587,127.0.0.10:40005,<,AUTH LOGIN,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:10.037Z," CLI "08DE3B1A2C4D0005,18,"
	                 "127.0.0.1:587,127.0.0.10:40005,*,EXAMPLE\\alice,"
	                 "authenticated",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:10.038Z," CLI "08DE3B1A2C4D0005,19,"
	                 "127.0.0.1:587,127.0.0.10:40005,>,235 2.7.0 "
	                 "Authentication successful,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_AUTH_OK,
	         .client = "127.0.0.10",
	         .user = "alice",
	         .text = "2.7.0 Authentication successful",
	         .code = 235},
	        {.line = "2026-01-15T09:00:10.039Z," CLI "08DE3B1A2C4D0005,20,"
	                 "127.0.0.1:587,127.0.0.10:40005,<,MAIL "
	                 "FROM:<alice@example.test>,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:10.041Z," CLI "08DE3B1A2C4D0005,22,"
	                 "127.0.0.1:587,127.0.0.10:40005,<,RCPT "
	                 "TO:<bob@example.test>,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:10.144Z," CLI "08DE3B1A2C4D0005,26,"
	                 "127.0.0.1:587,127.0.0.10:40005,>,\"250 2.6.0 "
	                 "<exchange-5@client.example.net> "
	                 "[InternalId=73014444034, "
	                 "Hostname=ex01.example.test] 2133 bytes in 0.102, "
	                 "19.608 KB/sec Queued mail for delivery\",",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:10.497Z," CLI "08DE3B1A2C4D0005,29,"
	                 "127.0.0.1:587,127.0.0.10:40005,-,,Local",
	         .format = SMTP},
	        /* session 10: the refusal names the session's MAIL and RCPT */
	        {.line = "2026-01-15T09:00:20.000Z," CLI "08DE3B1A2C4D000A,0,"
	                 "127.0.0.1:587,127.0.0.10:40010,+,,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "127.0.0.10"},
	        {.line = "2026-01-15T09:00:20.037Z," CLI "08DE3B1A2C4D000A,18,"
	                 "127.0.0.1:587,127.0.0.10:40010,*,EXAMPLE\\alice,"
	                 "authenticated",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:20.038Z," CLI "08DE3B1A2C4D000A,19,"
	                 "127.0.0.1:587,127.0.0.10:40010,>,235 2.7.0 "
	                 "Authentication successful,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_AUTH_OK,
	         .user = "alice",
	         .code = 235},
	        {.line = "2026-01-15T09:00:20.039Z," CLI "08DE3B1A2C4D000A,20,"
	                 "127.0.0.1:587,127.0.0.10:40010,<,MAIL "
	                 "FROM:<bob@example.test>,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:20.041Z," CLI "08DE3B1A2C4D000A,22,"
	                 "127.0.0.1:587,127.0.0.10:40010,<,RCPT "
	                 "TO:<carol@example.test>,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:20.144Z," CLI "08DE3B1A2C4D000A,26,"
	                 "127.0.0.1:587,127.0.0.10:40010,>,550 5.7.60 SMTP; "
	                 "Client does not have permissions to send as this "
	                 "sender,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_REJECT,
	         .client = "127.0.0.10",
	         .sender = "bob@example.test",
	         .rcpt = "carol@example.test",
	         .text = "5.7.60 SMTP; Client does not have permissions to "
	                 "send as this sender",
	         .code = 550,
	         .reject = SMTPROBE_LR_SENDER_LOGIN},
	        /* session 12: no name in the log for a failure */
	        {.line = "2026-01-15T09:00:24.235Z," CLI "08DE3B1A2C4D000C,17,"
	                 "127.0.0.1:587,127.0.0.20:40012,*,,Inbound AUTH "
	                 "LOGIN failed because of LogonDenied",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:24.236Z," CLI "08DE3B1A2C4D000C,18,"
	                 "127.0.0.1:587,127.0.0.20:40012,>,535 5.7.3 "
	                 "Authentication unsuccessful,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .ts = 1768467624,
	         .client = "127.0.0.20",
	         .user = "",
	         .text = "5.7.3 Authentication unsuccessful",
	         .code = 535},
	        {.line = "2026-01-15T09:00:44.004Z," CLI "08DE3B1A2C4D0016,4,"
	                 "127.0.0.1:587,127.0.0.26:40022,<,MAIL "
	                 "FROM:<alice@example.test>,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:44.005Z," CLI "08DE3B1A2C4D0016,5,"
	                 "127.0.0.1:587,127.0.0.26:40022,>,530 5.7.57 SMTP; "
	                 "Client was not authenticated to send anonymous mail "
	                 "during MAIL FROM,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_REJECT,
	         .client = "127.0.0.26",
	         .sender = "alice@example.test",
	         .rcpt = "",
	         .code = 530,
	         .reject = SMTPROBE_LR_AUTH_REQUIRED},
	        {.line = "2026-01-15T09:00:46.004Z," DEF "08DE3B1A2C4D0017,4,"
	                 "127.0.0.1:25,127.0.0.30:40023,<,MAIL "
	                 "FROM:<promo@example.net>,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:46.005Z," DEF "08DE3B1A2C4D0017,5,"
	                 "127.0.0.1:25,127.0.0.30:40023,>,250 2.1.0 Sender OK,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:46.006Z," DEF "08DE3B1A2C4D0017,6,"
	                 "127.0.0.1:25,127.0.0.30:40023,<,RCPT "
	                 "TO:<victim1@relay-test.invalid>,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:00:46.007Z," DEF "08DE3B1A2C4D0017,7,"
	                 "127.0.0.1:25,127.0.0.30:40023,>,550 5.7.54 SMTP; "
	                 "Unable to relay recipient in non-accepted domain,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_REJECT,
	         .ts = 1768467646,
	         .client = "127.0.0.30",
	         .sender = "promo@example.net",
	         .rcpt = "victim1@relay-test.invalid",
	         .text = "5.7.54 SMTP; Unable to relay recipient in "
	                 "non-accepted domain",
	         .code = 550,
	         .reject = SMTPROBE_LR_RELAY_DENIED},
	        {.line = "2026-01-15T09:01:02.004Z," DEF "08DE3B1A2C4D001F,4,"
	                 "127.0.0.1:25,127.0.0.42:40031,<,MAIL "
	                 "FROM:<friend@example.net>,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:01:02.006Z," DEF "08DE3B1A2C4D001F,6,"
	                 "127.0.0.1:25,127.0.0.42:40031,<,RCPT "
	                 "TO:<nosuchuser@example.test>,",
	         .format = SMTP},
	        {.line = "2026-01-15T09:01:02.007Z," DEF "08DE3B1A2C4D001F,7,"
	                 "127.0.0.1:25,127.0.0.42:40031,>,550 5.1.10 "
	                 "RESOLVER.ADR.RecipientNotFound; Recipient not found "
	                 "by SMTP address lookup,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_REJECT,
	         .client = "127.0.0.42",
	         .rcpt = "nosuchuser@example.test",
	         .code = 550,
	         .reject = SMTPROBE_LR_RECIPIENT},
	        {.line = "2026-01-15T09:01:04.058Z," DEF "08DE3B1A2C4D0020,9,"
	                 "127.0.0.1:25,127.0.0.50:40032,*,,TLS negotiation "
	                 "failed with error IllegalMessage",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_TLS_FAIL,
	         .client = "127.0.0.50",
	         .text = "TLS negotiation failed with error IllegalMessage",
	         .cause = SMTPROBE_LT_NOT_TLS},
	        {.line = "2026-01-15T09:01:08.058Z," DEF "08DE3B1A2C4D0022,9,"
	                 "127.0.0.1:25,127.0.0.52:40034,*,,TLS negotiation "
	                 "failed with error SocketError",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_TLS_FAIL,
	         .client = "127.0.0.52",
	         .cause = SMTPROBE_LT_CLOSED},
	};

	(void)state;
	logst_run(w, sizeof(w) / sizeof(w[0]), REF_TIME);
}

/* what the sample lacks, in Exchange's shapes */
static void test_receive_written(void **state)
{
	static const struct logst_want w[] = {
	        {.line = RECV_FIELDS, .format = SMTP},
	        {.line = "2026-01-15T10:00:00.000Z," DEF "08DE00000000AAAA,0,"
	                 "[2001:db8::25]:25,[2001:db8::1]:40001,+,,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_CONNECT,
	         .client = "2001:db8::1"},
	        {.line = "2026-01-15T10:00:00.100Z," DEF "08DE00000000AAAA,1,"
	                 "[2001:db8::25]:25,[2001:db8::1]:40001,>,454 4.7.0 "
	                 "Temporary authentication failure,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_AUTH_FAIL,
	         .client = "2001:db8::1",
	         .code = 454},
	        /* a timeout is no refusal */
	        {.line = "2026-01-15T10:00:00.200Z," DEF "08DE00000000AAAA,2,"
	                 "[2001:db8::25]:25,[2001:db8::1]:40001,>,421 4.4.1 "
	                 "Connection timed out. Total session time: "
	                 "00:10:00,",
	         .format = SMTP},
	        {.line = "2026-01-15T10:00:00.300Z," DEF "08DE00000000AAAA,3,"
	                 "[2001:db8::25]:25,[2001:db8::1]:40001,>,421 4.3.2 "
	                 "Service not available,",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_REJECT,
	         .code = 421,
	         .reject = SMTPROBE_LR_RATE},
	        /* an address with a quote and a comma: CSV quoting */
	        {.line = "2026-01-15T10:00:00.400Z," DEF "08DE00000000AAAA,4,"
	                 "[2001:db8::25]:25,[2001:db8::1]:40001,<,\"RCPT "
	                 "TO:<\"\"a,b\"\"@example.test>\",",
	         .format = SMTP},
	        {.line = "2026-01-15T10:00:00.500Z," DEF "08DE00000000AAAA,5,"
	                 "[2001:db8::25]:25,[2001:db8::1]:40001,>,\"550 "
	                 "5.1.10 RESOLVER.ADR.RecipientNotFound; not found, "
	                 "sorry\",",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_REJECT,
	         .rcpt = "\"\"a,b\"\"@example.test",
	         .text = "5.1.10 RESOLVER.ADR.RecipientNotFound; not found, "
	                 "sorry",
	         .reject = SMTPROBE_LR_RECIPIENT,
	         .code = 550},
	        /* a new transaction forgets the last one's addresses */
	        {.line = "2026-01-15T10:00:00.600Z," DEF "08DE00000000AAAA,6,"
	                 "[2001:db8::25]:25,[2001:db8::1]:40001,<,RSET,",
	         .format = SMTP},
	        {.line = "2026-01-15T10:00:00.700Z," DEF "08DE00000000AAAA,7,"
	                 "[2001:db8::25]:25,[2001:db8::1]:40001,>,500 5.3.3 "
	                 "Unrecognized command 'GET / HTTP/1.0',",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_REJECT,
	         .sender = "",
	         .rcpt = "",
	         .code = 500,
	         .reject = SMTPROBE_LR_SYNTAX},
	        /* an unterminated quote: the field runs to the line's end */
	        {.line = "2026-01-15T10:00:00.800Z," DEF "08DE00000000AAAA,8,"
	                 "[2001:db8::25]:25,[2001:db8::1]:40001,>,\"550 5.7.1 "
	                 "no",
	         .format = SMTP,
	         .kind = SMTPROBE_LE_REJECT,
	         .text = "5.7.1 no",
	         .code = 550},
	        /* a row whose date is no date: not Exchange's */
	        {.line = "yesterday," DEF "08DE00000000AAAA,9,,,+,,",
	         .format = SMTPROBE_LF_UNKNOWN},
	        /* a row cut before its event */
	        {.line = "2026-01-15T10:00:01.000Z," DEF "08DE00000000AAAA",
	         .format = SMTP},
	        /* the Send log: our own outgoing sessions */
	        {.line = "#Log-type: SMTP Send Protocol Log", .format = SMTP},
	        {.line = RECV_FIELDS, .format = SMTP},
	        {.line = "2026-01-15T10:00:02.000Z,EX01\\Internet,"
	                 "08DE00000000BBBB,0,,192.0.2.25:25,+,,",
	         .format = SMTP},
	        {.line = "2026-01-15T10:00:02.100Z,EX01\\Internet,"
	                 "08DE00000000BBBB,1,,192.0.2.25:25,<,550 5.7.1 "
	                 "Relaying denied,",
	         .format = SMTP},
	};

	(void)state;
	logst_run(w, sizeof(w) / sizeof(w[0]), REF_TIME);
}

/* exchange-msgtrk.log, then rows in its shape for the other events */
static void test_tracking(void **state)
{
	static const struct logst_want w[] = {
	        {.line = "#Software: Microsoft Exchange Server", .format = TRK},
	        {.line = "#Log-type: Message Tracking Log", .format = TRK},
	        {.line = TRK_FIELDS, .format = TRK},
	        /* accepted: no delivery yet */
	        {.line = "2026-01-15T09:00:10.194Z,127.0.0.10,"
	                 "host10.example.net,127.0.0.1,EX01,08DE3B1A2C4D0005;"
	                 "250 2.6.0 <exchange-5@client.example.net> Queued "
	                 "mail for delivery," CLI "SMTP,RECEIVE,73014444034,"
	                 "<exchange-5@client.example.net>,"
	                 "0000110000000200054f3c8e2d7a9b1c,bob@example.test,"
	                 "To,2133,1,,,\"smtprobe log sample, session 5\","
	                 "alice@example.test,alice@example.test,,"
	                 "Originating,,127.0.0.10,,"
	                 "S:ProxiedClientIPAddress=127.0.0.10,Email,"
	                 "b19896d0-e934-49bc-851a-001100000002,15.02.1544.004",
	         .format = TRK},
	        {.line = "2026-01-15T09:00:10.494Z,,ex01.example.test,"
	                 "127.0.0.1,EX01,\"MDB:6c3fa1e0-9b2d-4f51-8e7a-"
	                 "0d1c2b3a4f5e, Mailbox:bob, Event:1005, "
	                 "MessageClass:IPM.Note, "
	                 "CreationTime:2026-01-15T09:00:10.144Z\",,"
	                 "STOREDRIVER,DELIVER,73014444034,"
	                 "<exchange-5@client.example.net>,"
	                 "0000110000000200054f3c8e2d7a9b1c,bob@example.test,"
	                 "250 2.1.5 Recipient OK,2133,1,,,\"smtprobe log "
	                 "sample, session 5\",alice@example.test,"
	                 "alice@example.test,2026-01-15T09:00:10.144Z,"
	                 "Originating,,,,,Email,"
	                 "90834e8c-0358-4424-8f13-001100000002,15.02.1544.004",
	         .format = TRK,
	         .kind = SMTPROBE_LE_DELIVERED,
	         .ts = 1768467610,
	         .client = "",
	         .sender = "alice@example.test",
	         .rcpt = "bob@example.test"},
	        {.line = "2026-01-15T09:00:14.594Z,,,,EX01,,,DNS,FAIL,"
	                 "73014444035,<exchange-7@client.example.net>,"
	                 "0000110000000300074f3c8e2d7a9b1c,"
	                 "friend@relay-test.invalid,550 5.4.310 DNS domain "
	                 "relay-test.invalid does not exist "
	                 "[Message=InfoDomainNonexistent] "
	                 "[LastAttemptedServerName=relay-test.invalid],2167,"
	                 "1,,,\"smtprobe log sample, session 7\","
	                 "bob@example.test,bob@example.test,"
	                 "2026-01-15T09:00:14.144Z,Originating,,,,,Email,"
	                 "a18d79f7-d057-4614-87b6-001100000003,15.02.1544.004",
	         .format = TRK,
	         .kind = SMTPROBE_LE_BOUNCED,
	         .sender = "bob@example.test",
	         .rcpt = "friend@relay-test.invalid",
	         .text = "5.4.310 DNS domain relay-test.invalid does not "
	                 "exist [Message=InfoDomainNonexistent] "
	                 "[LastAttemptedServerName=relay-test.invalid]",
	         .code = 550},
	        /* the DSN of that failure: nothing more */
	        {.line = "2026-01-15T09:00:14.694Z,,,,EX01,,,DSN,DSN,"
	                 "73014444036,<dsn-7@ex01.example.test>,"
	                 "0000110000000300074f3c8e2d7a9b1c,bob@example.test,,"
	                 "2167,1,,<exchange-7@client.example.net>,"
	                 "\"Undeliverable: smtprobe log sample, session 7\","
	                 "postmaster@example.test,<>,,Originating,,,,,Email,"
	                 "f856b2b3-6e4a-4929-831d-001100000004,15.02.1544.004",
	         .format = TRK},
	        /* several recipients; a SEND to the next hop; a DEFER */
	        {.line = "2026-01-15T10:00:00.000Z,,,,EX01,,,STOREDRIVER,"
	                 "DELIVER,1,<m@x>,n,a@example.test;b@example.test;"
	                 "c@example.test,250 2.1.5 Recipient OK,100,3,,,s,"
	                 "z@example.net,z@example.net,,Incoming,,,,,Email,l,"
	                 "15.02.1544.004",
	         .format = TRK,
	         .kind = SMTPROBE_LE_DELIVERED,
	         .count = 3,
	         .rcpt = "a@example.test;b@example.test;c@example.test",
	         .sender = "z@example.net"},
	        {.line = "2026-01-15T10:00:01.000Z,192.0.2.1,,192.0.2.25,EX01,"
	                 ",EX01\\Internet,SMTP,SEND,2,<m@x>,n,x@example.org,"
	                 "250 2.0.0 OK,100,1,,,s,a@example.test,a@example.test"
	                 ",,Originating,,,,,Email,l,15.02.1544.004",
	         .format = TRK,
	         .kind = SMTPROBE_LE_DELIVERED,
	         .client = "192.0.2.1",
	         .rcpt = "x@example.org"},
	        /* a hop to the mailbox server, not a delivery */
	        {.line = "2026-01-15T10:00:01.500Z,192.0.2.1,,192.0.2.2,EX01,"
	                 ",Intra-Organization SMTP Send Connector,SMTP,SEND,"
	                 "2,<m@x>,n,y@example.test,250 2.1.5 Recipient OK,"
	                 "100,1,,,s,a@example.test,a@example.test,,"
	                 "Originating,,,,,Email,l,15.02.1544.004",
	         .format = TRK},
	        {.line = "2026-01-15T10:00:02.000Z,,,,EX01,,,SMTP,DEFER,3,"
	                 "<m@x>,n,x@example.org;y@example.org,\"451 4.4.0 "
	                 "DNS query failed, retrying\",100,2,,,s,"
	                 "a@example.test,a@example.test,,Originating,,,,,"
	                 "Email,l,15.02.1544.004",
	         .format = TRK,
	         .kind = SMTPROBE_LE_DEFERRED,
	         .count = 2,
	         .text = "4.4.0 DNS query failed, retrying",
	         .code = 451},
	        /* an empty recipient list still stands for one */
	        {.line = "2026-01-15T10:00:03.000Z,,,,EX01,,,SMTP,FAIL,4,<m@x>"
	                 ",n,;;,550 5.1.1 x,100,1",
	         .format = TRK,
	         .kind = SMTPROBE_LE_BOUNCED,
	         .count = 1,
	         .code = 550},
	};

	(void)state;
	logst_run(w, sizeof(w) / sizeof(w[0]), REF_TIME);
}

/* headers: before the columns, not Exchange's, 1000 fields */
static void test_headers(void **state)
{
	static struct smtprobe_log_input in;
	static const char row[] = "2026-01-15T09:00:10.494Z,,,,EX01,,,"
	                          "STOREDRIVER,DELIVER,1,<m@x>,n,a@x,s";
	struct smtprobe_log_event ev;
	char *line;
	size_t n;

	(void)state;
	/* a CSV row before any header: no parser's */
	logst_fresh(&in, REF_TIME);
	assert_int_equal(smtprobe_log_parse(&in, row, strlen(row), &ev),
	                 SMTPROBE_LF_UNKNOWN);
	assert_int_equal(logs_exchange(&in, row, strlen(row), &ev),
	                 SMTPROBE_LF_UNKNOWN);
	/* a comment of some other file */
	assert_int_equal(smtprobe_log_parse(&in, "# hello", 7, &ev),
	                 SMTPROBE_LF_UNKNOWN);
	assert_int_equal(in.csv, SMTPROBE_LF_UNKNOWN);
	/* W3C's space-separated #Fields (IIS) is not Exchange's: the CSV
	 * ends there */
	assert_int_equal(
	        smtprobe_log_parse(&in, TRK_FIELDS, strlen(TRK_FIELDS), &ev),
	        TRK);
	assert_int_equal(in.csv, TRK);
	assert_int_equal(
	        smtprobe_log_parse(&in, "#Fields: date time c-ip", 23, &ev),
	        SMTPROBE_LF_UNKNOWN);
	assert_int_equal(in.csv, SMTPROBE_LF_UNKNOWN);
	/* a bare "#Fields:" and one that stops in a name */
	assert_int_equal(smtprobe_log_parse(&in, "#Fields:", 8, &ev),
	                 SMTPROBE_LF_UNKNOWN);
	assert_int_equal(smtprobe_log_parse(&in, "#Fields: date-ti", 16, &ev),
	                 SMTPROBE_LF_UNKNOWN);

	/* 1000 fields, date-time the 500th and event-id the 1000th: a row
	 * with as many finds them */
	line = malloc(16 * 1024);
	assert_non_null(line);
	n = (size_t)snprintf(line, 16 * 1024, "#Fields: ");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(line + n, 16 * 1024 - n, "%s%s",
		                      i ? "," : "",
		                      i == 499   ? "date-time"
		                      : i == 999 ? "event-id"
		                                 : "x-field");
	logst_fresh(&in, REF_TIME);
	assert_int_equal(smtprobe_log_parse(&in, line, n, &ev), TRK);
	n = 0;
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(line + n, 16 * 1024 - n, "%s%s",
		                      i ? "," : "",
		                      i == 499   ? "2026-01-15T09:00:10Z"
		                      : i == 999 ? "DELIVER"
		                                 : "v");
	assert_int_equal(smtprobe_log_parse(&in, line, n, &ev), TRK);
	assert_int_equal(ev.kind, SMTPROBE_LE_DELIVERED);
	assert_int_equal(ev.ts, 1768467610);
	/* the same row cut short of its event: nothing */
	assert_int_equal(smtprobe_log_parse(&in, line, n - 8, &ev), TRK);
	assert_int_equal(ev.kind, SMTPROBE_LE_NONE);
	free(line);
}

/* ---- whole files ---- */

/* exchange-smtp-receive.expected.json: 37 sessions, one "+" each; AUTH
 * successes 7 (auth_ok 5 + sender_mismatch 2, a 235 each), failures 10
 * (auth_fail_password 5 + auth_fail_unknown 5, a 535 each); TLS: every
 * submission session after STARTTLS (5 + 2 + 10) and the 2 good clients
 * = 19 handshakes, failures 4 (garbage, eof, unknown CA, TLS 1.0 only);
 * rejections 9: relay_denied 5 (5.7.54), unknown_recipient 1 (5.1.10),
 * sender_login_mismatch 2 (5.7.60), starttls_required 1 (5.7.57).
 * exchange-msgtrk.expected.json: 5 messages accepted (RECEIVE, not
 * counted), 4 for local users delivered (DELIVER), the one for
 * friend@relay-test.invalid failed (FAIL; its DSN not counted). */
static void test_files(void **state)
{
	struct logst_totals t;
	const uint64_t *k = t.kind, *r = t.reject;

	(void)state;
	memset(&t, 0, sizeof(t));
	logst_totals("exchange-smtp-receive.log", REF_TIME, SMTP, 0, &t);
	assert_int_equal(k[SMTPROBE_LE_CONNECT], 37);
	assert_int_equal(k[SMTPROBE_LE_AUTH_OK], 7);
	assert_int_equal(k[SMTPROBE_LE_AUTH_FAIL], 10);
	assert_int_equal(k[SMTPROBE_LE_TLS_OK], 19);
	assert_int_equal(k[SMTPROBE_LE_TLS_FAIL], 4);
	assert_int_equal(k[SMTPROBE_LE_REJECT], 9);
	assert_int_equal(r[SMTPROBE_LR_RELAY_DENIED], 5);
	assert_int_equal(r[SMTPROBE_LR_RECIPIENT], 1);
	assert_int_equal(r[SMTPROBE_LR_SENDER_LOGIN], 2);
	assert_int_equal(r[SMTPROBE_LR_AUTH_REQUIRED], 1);
	assert_int_equal(k[SMTPROBE_LE_DELIVERED] + k[SMTPROBE_LE_DEFERRED] +
	                         k[SMTPROBE_LE_BOUNCED],
	                 0);
	assert_int_equal(t.unknown, 0);

	memset(&t, 0, sizeof(t));
	logst_totals("exchange-msgtrk.log", REF_TIME, TRK, 0, &t);
	assert_int_equal(k[SMTPROBE_LE_DELIVERED], 4);
	assert_int_equal(k[SMTPROBE_LE_BOUNCED], 1);
	assert_int_equal(k[SMTPROBE_LE_DEFERRED], 0);
	assert_int_equal(
	        k[SMTPROBE_LE_CONNECT] + k[SMTPROBE_LE_AUTH_OK] +
	                k[SMTPROBE_LE_AUTH_FAIL] + k[SMTPROBE_LE_TLS_OK] +
	                k[SMTPROBE_LE_TLS_FAIL] + k[SMTPROBE_LE_REJECT],
	        0);
	assert_int_equal(t.unknown, 0);
}

/* ---- hostile lines ---- */

/* every field in the line or in the input's session table; the protocol
 * may be one of the parser's names */
static const struct logst_rules rules = {SMTPROBE_LF_LAST, 1, 1};

static void test_hostile(void **state)
{
	static struct smtprobe_log_input in;
	static const char *const heads[] = {
	        "",
	        "#",
	        "#Fields: ",
	        "2026-01-15T09:00:10.000Z",
	        "2026-01-15T09:00:10.000Z,",
	        "2026-01-15T09:00:10.000Z,\"",
	        "2026-01-15T09:00:10.000Z,c,s,0,l,r,>,\"",
	        "2026-01-15T09:00:10.000Z,c,s,0,l,r,*,,\"TLS protocol ",
	        "2026-01-15T09:00:10.000Z,c,s,0,l,[r,<,RCPT TO:",
	        "2026-01-15T09:00:10.000Z,,,,EX01,,,SMTP,DELIVER,1,m,n,",
	};
	const size_t big = 100 * 1024;
	struct smtprobe_log_event ev;
	char *line = malloc(big + 256);

	(void)state;
	assert_non_null(line);
	/* each head in each log, after its #Fields */
	for (int log = 0; log < 2; log++)
		for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
			const char *fields = log ? TRK_FIELDS : RECV_FIELDS;
			logst_fresh(&in, REF_TIME);
			logst_parse(&in, fields, &ev);
			logst_heads(&in, &rules, &heads[h], 1, ",\"", ",\"");
		}
	/* a #Fields of 100 KB of commas, then all byte values as a row */
	logst_fresh(&in, REF_TIME);
	memcpy(line, "#Fields: ", 9);
	memset(line + 9, ',', big);
	logst_parse_guarded(&in, &rules, line, 9 + big, NULL);
	logst_parse(&in, RECV_FIELDS, &ev);
	for (int i = 0; i < 256; i++)
		line[i] = (char)i;
	logst_parse_guarded(&in, &rules, line, 256, NULL);
	free(line);
	logst_file_prefixes("exchange-smtp-receive.log", REF_TIME, &rules);
	logst_file_prefixes("exchange-msgtrk.log", REF_TIME, &rules);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_receive),
	        cmocka_unit_test(test_receive_written),
	        cmocka_unit_test(test_tracking),
	        cmocka_unit_test(test_headers),
	        cmocka_unit_test(test_files),
	        cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
