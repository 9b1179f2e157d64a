/* placeholder replaced below */
#include "cli.h"
int cmd_gen(int argc, char **argv) { (void)argc; (void)argv; return EXIT_RULESET; }
