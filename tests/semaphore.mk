## tests/semaphore.mk: tests of semaphores and atomic writes.
##
## Copyright (C) 2026 The portalock authors.
##
## This program is free software: you can redistribute it and/or modify it
## under the terms of the GNU General Public License as published by the
## Free Software Foundation, either version 3 of the License, or (at your
## option) any later version.
