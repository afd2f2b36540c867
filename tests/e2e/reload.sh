#!/usr/bin/env bash
# tests/e2e/reload.sh — `unbound-control reload` runs the module's deinit
# and init in the same process: blocking goes on, and an edited policy takes
# effect.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_start reload-lab

# reload_now CHECK — reload, and wait (bounded) until the reloaded resolver
# serves (reload_wait in lib.sh).
reload_now() {
	if ! reload_wait; then
		fail "$1" "unbound-control reload was refused or did not finish"
		return 1
	fi
	if ! alive; then
		fail "$1" "the resolver exited on reload"
		return 1
	fi
	pass "$1"
}

expect_blocked reload-before army.ml MX

reload_now reload-ok
off=$(log_size "$RESOLVER_LOG")
# The reload emptied the cache: this answer comes from the module again.
expect_blocked reload-keeps-blocking army.ml MX
if has_block_line "$(log_since "$RESOLVER_LOG" "$off")" army.ml MX; then
	pass reload-keeps-blocking-logged
else
	fail reload-keeps-blocking-logged "no block line for army.ml MX after the reload"
fi
expect_answer reload-keeps-resolving army.mil MX ' MX 10 mail\.army\.mil\.$'

# Edit the policy and reload: the new rule applies, the old ones still do.
expect_answer reload-new-rule-before www.example.com A ' A 192\.0\.2\.180$'
echo "block www.example.com" >>"$POLICY"
reload_now reload-again-ok
expect_blocked reload-new-rule www.example.com A
expect_blocked reload-new-rule-keeps-old navy.ml MX

e2e_finish reload-resolver-survived
