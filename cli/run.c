/* run.c - (being written) */
#include "cli.h"
int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("not yet");
	return 2;
}
