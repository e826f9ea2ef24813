# tools.tcl: procedures the tests of plock and punlock share.
#
# Copyright (C) 2026 The portalock authors.
#
# This program is free software: you can redistribute it and/or modify it
# under the terms of the GNU General Public License as published by the
# Free Software Foundation, either version 3 of the License, or (at your
# option) any later version.

# Every .exp file here sources this one.  Processes are synchronised by
# readiness only: a line a child prints once it holds a lock, plock's own
# exit (which it makes only once its holder holds the lock), or a waiter
# blocked in the kernel (plock -w); never by a sleep.

set plock [file join $objdir src plock]
set punlock [file join $objdir src punlock]
set flock_tool [auto_execok flock]
set timeout 60

if { ![file executable $plock] || ![file executable $punlock] } {
    unresolved "plock and punlock are not built"
    return
}

# A private scratch directory, removed at the end of each .exp file by
# tools_cleanup: in $TMPDIR if set and not empty, else /tmp.
global env
set tmpdir /tmp
if { [info exists env(TMPDIR)] && $env(TMPDIR) ne "" } {
    set tmpdir $env(TMPDIR)
}
set tmp [exec mktemp -d [file join $tmpdir portalock-tools.XXXXXX]]

# Run BODY in the caller if this build has FEATURE (proc_locks: holders
# are found through /proc/locks; ofd: OFD locks; see tests/features.exp),
# else report NAME as UNSUPPORTED: a case that needs what the system
# lacks neither fails nor vanishes.
proc with_feature { feature name body } {
    if { [portalock_have $feature] } {
        uplevel 1 $body
    } else {
        unsupported "$name (no $feature here)"
    }
}

# Without /proc/locks nothing tells who holds a lock: plock --holder and
# punlock must say so (71), and leave the holder of PATH alone (seen
# with API, default the backend's, since the holder may lock with
# another).  Report under NAME.
proc expect_cannot_tell { name path {api ""} } {
    global plock punlock
    expect_status "$name: plock --holder cannot tell" 71 \
        "^plock: .*: Operation not supported$" "^$" $plock --holder $path
    expect_status "$name: punlock cannot tell" 71 \
        "^punlock: .*: cannot tell who holds the lock: Operation not supported$" \
        "" $punlock $path
    check "$name: the lock stays held" {![lock_free $path $api]}
}

# Start a holder of PATH with plock ARGS... PATH (--verbose added: as
# flock's, its messages go to standard output); return its PID, or "" after reporting a failure under NAME.  Where
# punlock cannot find a holder (no /proc/locks), the test ends it with
# end_holder.
proc start_holder { name path args } {
    global plock
    set r [run $plock --verbose {*}$args $path]
    if { [lindex $r 0] != 0
         || ![regexp {holder ([0-9]+) keeps the lock} [lindex $r 1] -> pid] } {
        fail "$name: no holder ($r)"
        return ""
    }
    return $pid
}

# End the holder PID of PATH with SIGTERM, and wait until PATH is free.
proc end_holder { pid path } {
    catch { exec kill $pid }
    return [await_free $path]
}

# Release the holder PID of PATH: with punlock, which finds it through
# /proc/locks, or else by ending it.
proc release_holder { pid path } {
    global punlock
    if { [portalock_have proc_locks] } {
        exec $punlock $path
    } else {
        end_holder $pid $path
    }
}

# Run ARGS (a command and its arguments, no shell) with stdin from
# /dev/null; return {status stdout stderr}.  A command killed by signal
# N has status 128+N.
proc run { args } {
    global tmp
    set errfile [file join $tmp stderr.txt]
    set outfile [file join $tmp stdout.txt]
    set status 0
    if { [catch { exec -ignorestderr {*}$args > $outfile 2> $errfile < /dev/null } out opts] } {
        set code [dict get $opts -errorcode]
        switch -- [lindex $code 0] {
            CHILDSTATUS { set status [lindex $code 2] }
            CHILDKILLED {
                set status [expr { 128 + [sig_number [lindex $code 2]] }]
            }
            default { set status "error: $out" }
        }
    }
    set f [open $errfile]
    set err [string trimright [read $f] "\n"]
    close $f
    set f [open $outfile]
    set out [string trimright [read $f] "\n"]
    close $f
    return [list $status $out $err]
}

# Run sh -c SCRIPT like run.
proc run_sh { script } {
    return [run /bin/sh -c $script]
}

proc sig_number { name } {
    array set n { SIGHUP 1 SIGINT 2 SIGQUIT 3 SIGKILL 9 SIGUSR1 10
        SIGUSR2 12 SIGTERM 15 }
    if { [info exists n($name)] } { return $n($name) }
    return 0
}

# Check that ARGS exits with status WANT; if ERRPAT is not empty, that
# its stderr matches the regexp ERRPAT; if OUTPAT is not empty, that its
# stdout does.  Report NAME.
proc expect_status { name want errpat outpat args } {
    set r [run {*}$args]
    lassign $r status out err
    if { $status ne $want } {
        fail "$name (status $status, wanted $want; stderr: $err)"
        return $r
    }
    if { $errpat ne "" && ![regexp -- $errpat $err] } {
        fail "$name (stderr '$err' does not match '$errpat')"
        return $r
    }
    if { $outpat ne "" && ![regexp -- $outpat $out] } {
        fail "$name (stdout '$out' does not match '$outpat')"
        return $r
    }
    pass $name
    return $r
}

# Report NAME as passed if COND (an expression, evaluated by the caller)
# holds.
proc check { name cond } {
    if { [uplevel 1 [list expr $cond]] } {
        pass $name
    } else {
        fail $name
    }
}

# Is the lock on PATH free for an exclusive lock right now (with the
# library's default api)?
proc lock_free { path {api ""} } {
    global plock
    if { $api ne "" } {
        set r [run $plock --api=$api --test $path]
    } else {
        set r [run $plock --test $path]
    }
    return [expr { [lindex $r 0] == 0 }]
}

# Wait (blocked in the kernel) until the lock on PATH is free, at most
# 30 seconds; return true if it was.
proc await_free { path } {
    global plock
    set r [run $plock -w 30 -N $path true]
    return [expr { [lindex $r 0] == 0 }]
}

# Start TOOL ARGS... running "sh -c SCRIPT" under a lock, where SCRIPT
# first prints "ready": return the spawn id once it is printed (the lock
# is then held), or "" after reporting a failure.  The command ends when
# it reads a line.
proc start_locked { name args } {
    global timeout
    set script {echo ready; read x; echo done}
    eval spawn -noecho $args [list /bin/sh -c $script]
    set id $spawn_id
    expect {
        -i $id "ready" { return $id }
        -i $id timeout { fail "$name: no 'ready'"; catch { close -i $id }
            catch { wait -i $id }; return "" }
        -i $id eof { fail "$name: ended early"; catch { wait -i $id }
            return "" }
    }
}

# End a process started by start_locked; return its exit status.
proc finish_locked { id } {
    send -i $id "\r"
    expect {
        -i $id eof { }
        -i $id timeout { catch { exec kill -9 [exp_pid -i $id] } }
    }
    catch { close -i $id }
    set w [wait -i $id]
    if { [llength $w] > 4 } { return 128 }
    return [lindex $w 3]
}

# The backend the library uses by default here.
proc default_backend { } {
    global objdir
    # The library's answer: PORTALOCK_BACKEND, else configure's choice.
    if { [catch { exec $objdir/tests/lockprobe backend } name] } {
        return "default"
    }
    return $name
}

# The command prefix that runs a program as the unprivileged user
# 65534, for permission tests: empty if the tests do not run as root,
# "none" if that cannot be done here (no setpriv, or that user cannot
# run the built tools, say in a build directory only root may enter).
proc as_nobody { } {
    global plock
    if { [exec id -u] != 0 } {
        return {}
    }
    set setpriv [auto_execok setpriv]
    if { $setpriv eq "" } {
        return none
    }
    set as [list {*}$setpriv --reuid=65534 --regid=65534 --clear-groups]
    if { [catch { exec {*}$as $plock --version }] } {
        return none
    }
    return $as
}

# Does the default api have shared locks?  (lockf has not.)
proc shared_ok { } {
    global plock tmp
    set probe [file join $tmp shared-probe]
    close [open $probe w]
    set r [run $plock -s --test $probe]
    return [expr { [lindex $r 0] != 65 }]
}

# The PIDs holding a lock on PATH, from plock --holder.
proc holders { path } {
    global plock
    set r [run $plock --holder $path]
    return [split [string trim [lindex $r 1]] "\n"]
}

# Release every holder left on files in the scratch directory and
# remove it.
proc tools_cleanup { } {
    global tmp punlock
    foreach f [glob -nocomplain [file join $tmp *]] {
        catch { exec $punlock -q -f -k 1 $f }
        # Without /proc/locks punlock cannot tell a holder: end it by
        # the PID it recorded.  Other files in $tmp hold test output (a
        # lone "0" among them, which kill would take for the process
        # group): only a PID that names a running plock is ended.
        if { ![portalock_have proc_locks] } {
            catch {
                set pid [lindex [split [exec cat $f] "\n"] 0]
                if { [string is integer -strict $pid] && $pid > 1
                     && [string match "*plock*" [exec ps -o comm= -p $pid]] } {
                    exec kill $pid
                }
            }
        }
    }
    file delete -force $tmp
}
