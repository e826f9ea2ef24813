/* semaphore.c: bounded semaphores: at most N holders across processes.

   Copyright (C) 2026 The portalock authors.

   This library is free software; you can redistribute it and/or modify it
   under the terms of the GNU Lesser General Public License as published by
   the Free Software Foundation; either version 2.1 of the License, or (at
   your option) any later version.  */

#include <config.h>

#include "portalock-private.h"
