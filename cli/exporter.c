/* exporter.c - (being written) */
#include "cli.h"
int cmd_exporter(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error("not yet");
	return 2;
}
