/* relay_names.c - the names of the relay audit's enums, as the text and
 * JSON renderers show them. */
#include "smtprobe/relay.h"
#include "banned.h"

const char *smtprobe_relay_expect_name(enum smtprobe_relay_expect e)
{
	switch (e) {
	case SMTPROBE_EXPECT_REFUSED:
		return "refused";
	case SMTPROBE_EXPECT_CONTROL:
		return "accepted (control)";
	case SMTPROBE_EXPECT_PROBE:
		return "either (catch-all probe)";
	case SMTPROBE_EXPECT_ACCEPTED:
		return "accepted";
	case SMTPROBE_EXPECT_SHOULD_REFUSE:
		return "refused (advice)";
	case SMTPROBE_EXPECT_INFO:
		return "either (information)";
	}
	return "?";
}

const char *smtprobe_relay_auth_name(enum smtprobe_relay_auth a)
{
	switch (a) {
	case SMTPROBE_RAUTH_NONE:
		return "none";
	case SMTPROBE_RAUTH_USER:
		return "user";
	case SMTPROBE_RAUTH_FAILED:
		return "failed";
	case SMTPROBE_RAUTH_GARBAGE:
		return "garbage";
	case SMTPROBE_RAUTH_ABORTED:
		return "aborted";
	}
	return "?";
}

const char *smtprobe_relay_verdict_name(enum smtprobe_relay_verdict v)
{
	switch (v) {
	case SMTPROBE_V_SKIPPED:
		return "skipped";
	case SMTPROBE_V_CLOSED:
		return "closed";
	case SMTPROBE_V_OPEN:
		return "open";
	case SMTPROBE_V_HOLDS:
		return "holds";
	case SMTPROBE_V_VIOLATED:
		return "violated";
	case SMTPROBE_V_INCONCLUSIVE:
		return "inconclusive";
	}
	return "?";
}

const char *smtprobe_relay_mark_name(enum smtprobe_relay_mark m)
{
	switch (m) {
	case SMTPROBE_MARK_SKIPPED:
		return "skipped";
	case SMTPROBE_MARK_PASS:
		return "pass";
	case SMTPROBE_MARK_HOLE:
		return "hole";
	case SMTPROBE_MARK_WARN:
		return "warn";
	case SMTPROBE_MARK_UNDECIDED:
		return "undecided";
	case SMTPROBE_MARK_FACT:
		return "fact";
	}
	return "?";
}
