# tests/bench/pyguard.py — baseline (d) of make bench: the lookalike guard a
# user would write with Unbound's Python module instead of doppel.
#
# A dict maps every listed variant name (here: dnstwist's variants of the
# protected domains) to the domain it imitates.  A new query whose name is
# in the dict is answered NXDOMAIN, the answer is stored in the message
# cache (so repeats stay blocked) and one log line is written; any other
# query goes on to the validator and the iterator.  Like doppel with
# `audit: flagged`, it also hooks replies served from the cache, so that a
# blocked name asked again is logged again.
#
# Unbound runs this script with `module-config: "python validator iterator"`
# and `python: python-script: .../pyguard.py`; the variant list is the file
# named by $PYGUARD_VARIANTS, one "variant target" pair per line.
#
# The names mod_env, log_info, MODULE_* and the rest are globals that
# Unbound's Python module puts into this script's namespace.
import os

variants = {}


def _key(name):
    return name.lower().rstrip(".")


def cache_reply(qinfo, qstate, rep, rcode, edns, opt_list_out, region,
                **kwargs):
    target = variants.get(_key(qinfo.qname_str))
    if target is not None:
        log_info("pyguard: %s imitates %s (from the cache)"
                 % (qinfo.qname_str, target))
    return True


def init_standard(id, env):
    path = os.environ.get("PYGUARD_VARIANTS", "")
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                variants[_key(parts[0])] = parts[1]
    log_info("pyguard: %d variant names from %s" % (len(variants), path))
    if not register_inplace_cb_reply_cache(cache_reply, env, id):
        log_info("pyguard: cannot hook replies from the cache")
    return True


def deinit(id):
    return True


def inform_super(id, qstate, superqstate, qdata):
    return True


def operate(id, event, qstate, qdata):
    if event in (MODULE_EVENT_NEW, MODULE_EVENT_PASS):
        target = variants.get(_key(qstate.qinfo.qname_str))
        if target is None:
            qstate.ext_state[id] = MODULE_WAIT_MODULE
            return True
        msg = DNSMessage(qstate.qinfo.qname_str, qstate.qinfo.qtype,
                         qstate.qinfo.qclass, PKT_QR | PKT_RA)
        if not msg.set_return_msg(qstate):
            qstate.ext_state[id] = MODULE_ERROR
            return True
        qstate.return_rcode = RCODE_NXDOMAIN
        qstate.return_msg.rep.security = 2
        storeQueryInCache(qstate, qstate.qinfo, qstate.return_msg.rep, 0)
        log_info("pyguard: %s imitates %s: NXDOMAIN"
                 % (qstate.qinfo.qname_str, target))
        qstate.ext_state[id] = MODULE_FINISHED
        return True
    if event == MODULE_EVENT_MODDONE:
        qstate.ext_state[id] = MODULE_FINISHED
        return True
    qstate.ext_state[id] = MODULE_ERROR
    return True
