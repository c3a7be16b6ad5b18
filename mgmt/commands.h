#ifndef KEEL_MGMT_COMMANDS_H
#define KEEL_MGMT_COMMANDS_H

#include <stddef.h>

#include "mgmt/shell.h"

extern const struct shell_cmd mgmt_commands[];
extern const size_t mgmt_ncommands;

#endif
