-- root: accounts/broken
SELECT uid, time, command, history_file FROM shell_history;
