"""Independent RFC 9162 proof verifier (standard library only).

Usage: rfc9162_verify.py inclusion|consistency '<json printed by tracemark ledger proof/consistency>'
Exit 0 if the proof verifies, 1 otherwise. Written from RFC 9162 sections 2.1.3.2 and 2.1.4.2,
independently of the project's Rust ledger crate.
"""
import base64, hashlib, json, sys

def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()

def verify_inclusion(p):
    index, size = p["leafIdx"], p["treeSize"]
    h = base64.b64decode(p["leafHash"])
    root = base64.b64decode(p["root"])
    proof = [base64.b64decode(x) for x in p["proof"] or []]
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = h
    for pe in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(pe, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node(r, pe)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root

def verify_consistency(p):
    first, second = p["size1"], p["size2"]
    r1, r2 = base64.b64decode(p["root1"]), base64.b64decode(p["root2"])
    proof = [base64.b64decode(x) for x in p["proof"] or []]
    if first == 0 or first > second:
        return False
    if first == second:
        return not proof and r1 == r2
    if first & (first - 1) == 0:  # a power of two: the first root is implied
        proof = [r1] + proof
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == r1 and sr == r2 and sn == 0

if __name__ == "__main__":
    kind, doc = sys.argv[1], json.loads(sys.argv[2])
    ok = verify_inclusion(doc) if kind == "inclusion" else verify_consistency(doc)
    sys.exit(0 if ok else 1)
