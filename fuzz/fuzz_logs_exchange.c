/* fuzz_logs_exchange.c - libFuzzer target for Exchange's CSV logs
 * (lib/logs/exchange.c) through the dispatcher and the summary: the two
 * logs' headers first (the SMTP receive log's #Fields last, so its rows
 * are read; an input line starting with '#' sets a header of its own),
 * then each input line (fuzz_logs.h). */
#define HEADER                                                                 \
	"#Software: Microsoft Exchange Server\n"                               \
	"#Log-type: Message Tracking Log\n"                                    \
	"#Fields: date-time,client-ip,client-hostname,server-ip,"              \
	"server-hostname,source-context,connector-id,source,event-id,"         \
	"internal-message-id,message-id,network-message-id,"                   \
	"recipient-address,recipient-status,total-bytes,recipient-count,"      \
	"related-recipient-address,reference,message-subject,sender-address,"  \
	"return-path,message-info,directionality,tenant-id,"                   \
	"original-client-ip,original-server-ip,custom-data,"                   \
	"transport-traffic-type,log-id,schema-version\n"                       \
	"#Log-type: SMTP Receive Protocol Log\n"                               \
	"#Fields: date-time,connector-id,session-id,sequence-number,"          \
	"local-endpoint,remote-endpoint,event,data,context\n"
#define PREFIX ""
#include "fuzz_logs.h"
