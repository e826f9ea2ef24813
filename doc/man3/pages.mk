## doc/man3/pages.mk: the section 3 man pages, by library.
##
## Copyright (C) 2026 The portalock authors.
##
## Made by doc/texi2man3 (make update-man3): do not edit.

man3_core = \
  doc/man3/portalock_acquire.3 \
  doc/man3/portalock_acquire_cancel.3 \
  doc/man3/portalock_acquire_finish.3 \
  doc/man3/portalock_acquire_start.3 \
  doc/man3/portalock_atomic_abort.3 \
  doc/man3/portalock_atomic_commit.3 \
  doc/man3/portalock_atomic_fd.3 \
  doc/man3/portalock_atomic_open.3 \
  doc/man3/portalock_atomic_stream.3 \
  doc/man3/portalock_backend_available.3 \
  doc/man3/portalock_backend_from_name.3 \
  doc/man3/portalock_backend_lock.3 \
  doc/man3/portalock_backend_name.3 \
  doc/man3/portalock_convert.3 \
  doc/man3/portalock_default_backend.3 \
  doc/man3/portalock_default_method.3 \
  doc/man3/portalock_depth.3 \
  doc/man3/portalock_drop_wait_helper.3 \
  doc/man3/portalock_fd.3 \
  doc/man3/portalock_free.3 \
  doc/man3/portalock_fs_probe.3 \
  doc/man3/portalock_generation.3 \
  doc/man3/portalock_held.3 \
  doc/man3/portalock_held_method.3 \
  doc/man3/portalock_holders.3 \
  doc/man3/portalock_lock.3 \
  doc/man3/portalock_lock_range.3 \
  doc/man3/portalock_lock_timeout.3 \
  doc/man3/portalock_lost.3 \
  doc/man3/portalock_marker_break.3 \
  doc/man3/portalock_marker_read.3 \
  doc/man3/portalock_marker_readers.3 \
  doc/man3/portalock_method_from_name.3 \
  doc/man3/portalock_method_name.3 \
  doc/man3/portalock_new.3 \
  doc/man3/portalock_pending_fd.3 \
  doc/man3/portalock_pending_handle.3 \
  doc/man3/portalock_pid_record_read.3 \
  doc/man3/portalock_pid_record_write.3 \
  doc/man3/portalock_release.3 \
  doc/man3/portalock_semaphore_acquire.3 \
  doc/man3/portalock_semaphore_acquire_start.3 \
  doc/man3/portalock_semaphore_free.3 \
  doc/man3/portalock_semaphore_new.3 \
  doc/man3/portalock_semaphore_release.3 \
  doc/man3/portalock_semaphore_set_backend.3 \
  doc/man3/portalock_semaphore_set_check_interval.3 \
  doc/man3/portalock_semaphore_set_fail_when_locked.3 \
  doc/man3/portalock_semaphore_set_method.3 \
  doc/man3/portalock_semaphore_set_pattern.3 \
  doc/man3/portalock_semaphore_set_timeout.3 \
  doc/man3/portalock_semaphore_slot.3 \
  doc/man3/portalock_set_backend.3 \
  doc/man3/portalock_set_check_interval.3 \
  doc/man3/portalock_set_fail_when_locked.3 \
  doc/man3/portalock_set_flags.3 \
  doc/man3/portalock_set_identity_check.3 \
  doc/man3/portalock_set_lease_ttl.3 \
  doc/man3/portalock_set_lost_callback.3 \
  doc/man3/portalock_set_method.3 \
  doc/man3/portalock_set_mode.3 \
  doc/man3/portalock_set_permissions.3 \
  doc/man3/portalock_set_record_pid.3 \
  doc/man3/portalock_set_reentrant.3 \
  doc/man3/portalock_set_sync.3 \
  doc/man3/portalock_set_temporary.3 \
  doc/man3/portalock_set_timeout.3 \
  doc/man3/portalock_set_timeout_signal.3 \
  doc/man3/portalock_set_writer_preference.3 \
  doc/man3/portalock_stream.3 \
  doc/man3/portalock_unlock.3 \
  doc/man3/portalock_unlock_stream.3 \
  doc/man3/portalock_version.3
man3_redis = \
  doc/man3/portalock_redis_acquire.3 \
  doc/man3/portalock_redis_acquire_cancel.3 \
  doc/man3/portalock_redis_acquire_finish.3 \
  doc/man3/portalock_redis_acquire_start.3 \
  doc/man3/portalock_redis_free.3 \
  doc/man3/portalock_redis_held.3 \
  doc/man3/portalock_redis_holders.3 \
  doc/man3/portalock_redis_keepalive.3 \
  doc/man3/portalock_redis_new.3 \
  doc/man3/portalock_redis_pending_fd.3 \
  doc/man3/portalock_redis_release.3 \
  doc/man3/portalock_redis_remaining.3 \
  doc/man3/portalock_redis_renew.3 \
  doc/man3/portalock_redis_server_error.3 \
  doc/man3/portalock_redis_set_command_timeout.3 \
  doc/man3/portalock_redis_set_connect_timeout.3 \
  doc/man3/portalock_redis_set_fail_when_locked.3 \
  doc/man3/portalock_redis_set_identity.3 \
  doc/man3/portalock_redis_set_queue_ttl.3 \
  doc/man3/portalock_redis_set_shared.3 \
  doc/man3/portalock_redis_set_timeout.3 \
  doc/man3/portalock_redis_set_ttl.3 \
  doc/man3/portalock_redis_set_writer_preference.3 \
  doc/man3/portalock_redis_token.3
