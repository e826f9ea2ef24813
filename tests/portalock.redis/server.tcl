# server.tcl: start and stop the Redis server the Redis tests run against.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.

# Each .exp file runs its own server, on a Unix socket in a temporary
# directory, with no TCP port and no persistence, and stops it at the
# end.

# Start a server, with the extra options ARGS; return its directory (the
# socket is DIR/sock), or "" after reporting why there is none.
proc redis_server_start { args } {
    if { [auto_execok redis-server] eq "" || [auto_execok redis-cli] eq "" } {
        unsupported "redis: redis-server is not installed"
        return ""
    }
    set dir [exec mktemp -d "/tmp/portalock-redis.XXXXXX"]
    if { [catch { exec redis-server --port 0 --unixsocket $dir/sock \
                      --save "" --appendonly no --dir $dir \
                      --daemonize yes --pidfile $dir/pid \
                      --logfile $dir/log {*}$args } out] } {
        fail "redis: redis-server did not start: $out"
        file delete -force $dir
        return ""
    }
    # Wait until it answers, by asking it (a server that wants a password
    # answers NOAUTH).
    for { set i 0 } { $i < 1000 } { incr i } {
        if { ![catch { exec redis-cli -s $dir/sock ping } out]
             && ($out eq "PONG" || [string match "NOAUTH*" $out]) } {
            return $dir
        }
        after 10
    }
    fail "redis: redis-server does not answer on $dir/sock"
    redis_server_stop $dir
    return ""
}

# Stop the server of DIR (whichever one runs there now: a test may have
# restarted it) and remove DIR.
proc redis_server_stop { dir } {
    set pid ""
    if { [catch { exec cat $dir/pid } pid] || ![string is integer $pid] } {
        set pid ""
    }
    catch { exec redis-cli -s $dir/sock shutdown nosave }
    if { $pid ne "" } {
        catch { exec kill $pid }
        # A server that refused the shutdown (it wants a password) ends
        # on the signal, and writes its log on the way out: wait until
        # it is gone before the directory goes.
        for { set i 0 } { $i < 3000 && ![catch { exec kill -0 $pid }] } \
            { incr i } {
            after 10
        }
    }
    file delete -force $dir
}
