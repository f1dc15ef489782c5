/* judge_auth.c - (being written) */
typedef int smtprobe_stub_judge_auth;
