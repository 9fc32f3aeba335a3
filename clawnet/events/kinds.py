"""Event kinds: one source for their names, with the payload each carries."""


class Kind:
    """Event kinds (one source for their names)."""

    GATEWAY_STATUS = "gateway.status"  # payload: status, detail, pid
    GATEWAY_EXITED = "gateway.exited"  # payload: exit_code, expected
    GATEWAY_LOG = "gateway.log"  # payload: level, message, subsystem, time
    GATEWAY_METRICS = "gateway.metrics"  # payload: rss_bytes, ...
    BOT_STATUS = "bot.status"  # payload: status, detail
    BOT_DESIRED = "bot.desired"  # payload: desired (an owner started or stopped the bot)
    CHANNEL_STATUS = "channel.status"
    SESSION_CHANGED = "session.changed"  # payload: key, session_id, message_count, preview
    SESSION_MESSAGE = "session.message"  # payload: key, seq, role, text
    CHAT_DELTA = "chat.delta"  # payload: turn_id, run_id, text (the whole reply so far)
    CHAT_FINAL = "chat.final"  # payload: turn_id, run_id, text
    CHAT_FAILED = "chat.failed"  # payload: turn_id, error
    # A chat asked for by a process without the control plane (over the transport):
    CHAT_REQUEST = "chat.request"  # payload: request_id, text, user_id, session_key, timeout_s
    CHAT_ACCEPTED = "chat.accepted"  # payload: request_id, turn_id, gateway_id, session_key
    CHAT_REJECTED = "chat.rejected"  # payload: request_id, error
    # A gateway call (channel actions) asked for by a process without the control plane:
    GATEWAY_CALL = "gateway.call"  # payload: request_id, method, params, timeout
    GATEWAY_CALL_RESULT = "gateway.call.result"  # payload: request_id, answer | code, message
    # Another control-plane operation asked for by a process without the control plane:
    CONTROL_REQUEST = "control.request"  # payload: request_id, op, args
    CONTROL_RESULT = "control.result"  # payload: request_id, answer | error
    # DM pairing: a bot's pending access requests changed (new, expired, decided), or its
    # approved senders did.
    ACCESS_REQUESTS = "access.requests"  # payload: pending (the bot's count), resolved?
    ACCESS_SENDERS = "access.senders"  # payload: channel, sender_id
    # An exec or plugin approval a gateway asked for was recorded, answered or expired:
    APPROVALS = "approvals"  # payload: approval (ClawNet's row id), state, kind
    # A bot's schedules changed, or its gateway's scheduler ran or changed a job:
    SCHEDULES = "schedules"  # payload: job_id, action
    CONFIG_APPLIED = "config.applied"  # payload: version, hash, changed
    CONFIG_DRIFT = "config.drift"  # payload: expected_hash, remote_hash, action
    RECONCILE = "reconcile"  # payload: actions
    ERROR = "error"  # payload: message, where
    FLEET_KICK = "fleet.kick"  # ask the controller to reconcile now (crosses processes)
    FLEET_CHANGED = "fleet.changed"  # bots created, changed or deleted: lists reload
    POST_CREATED = "post.created"  # payload: post_id, author_id, visibility, mentions
    POST_CHANGED = "post.changed"  # payload: post_id, what (edited, deleted, liked, replied), counts
    COMMENT_CREATED = "comment.created"  # payload: post_id, comment_id, author_id, mentions
    BUDGET = "budget"  # payload: owner_id, bot_id (None: owner-wide), period, metric, threshold (80, 100; 0 = back under), used, limit
    NOTIFICATION = "notification"  # payload: recipient_id (profile), unread
    ALERT = "alert"  # payload: owner_id, alert_id, state (open, acknowledged, resolved), open_count
    # Backups: a web worker asked for one ("requested": the request itself is in the database,
    # so this only wakes the leader), or the leader started or finished one.
    BACKUP = "backup"  # payload: state (requested, started, finished), run_id, ok
