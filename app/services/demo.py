"""Demonstration data: a Demo ICB, its LMC, thirteen PCNs, a second ICB and accounts for every role; never production.

The first six PCNs carry the states the tests and the README's walkthrough rely on. The seven after them
(U00010..U00016) exist so that benchmarks have at least five submitted returns to show: each has a clinical
director account (cd10@ .. cd16@example.org) that submits its winter return, and one of them, Orchard Vale PCN,
has chosen to be named to its LMC.
"""

from ..extensions import db
from ..models import Organisation, OrgKind, Role, User
from ..queries.organisations import get_organisation_by_code, get_organisation_by_name
from ..queries.users import get_user_by_email

PASSWORD = "demo-password"

ICB = ("Demo ICB", "QDM")
# A second ICB with one PCN, so that every boundary between areas can be tried with the demo accounts.
OTHER_ICB = ("Second Demo ICB", "QSD")
OTHER_PCNS = [("Hillside PCN", "U00007")]
LMC = "Demo Local Medical Committee"
ADMIN_ORG = "PCN Neighbourhood Readiness service"
PCNS = [
    ("Riverside PCN", "U00001"),
    ("Northfields PCN", "U00002"),
    ("Harbour and Coast PCN", "U00003"),
    ("Market Towns PCN", "U00004"),
    ("Eastgate PCN", "U00005"),
    ("Valley Villages PCN", "U00006"),
]
# PCNs that submit the winter round's return when the demo rounds are loaded (app/services/demo_rounds.py).
SUBMITTING_PCNS = [
    ("Abbeyfields PCN", "U00010"),
    ("Canalside PCN", "U00011"),
    ("Westbrook PCN", "U00012"),
    ("Orchard Vale PCN", "U00013"),
    ("Castle Hill PCN", "U00014"),
    ("Downs and Weald PCN", "U00015"),
    ("Marshlands PCN", "U00016"),
]
PCNS += SUBMITTING_PCNS
# The PCN whose clinical director has chosen to name it to the LMC in benchmarks (set when it is first created,
# so a choice withdrawn later stays withdrawn).
NAMED_TO_LMC = {"U00013"}
# Sub-ICB locations (name, code, ICB), the one each PCN is in, and those the demo LMC covers.
SUB_ICBS = [
    ("Demo ICB - 90A (North)", "90A", "QDM"),
    ("Demo ICB - 90B (South)", "90B", "QDM"),
    ("Second Demo ICB - 90C", "90C", "QSD"),
]
PCN_SUB_ICBS = {
    "U00001": "90A",
    "U00002": "90A",
    "U00003": "90A",
    "U00004": "90B",
    "U00005": "90B",
    "U00006": "90B",
    "U00010": "90A",
    "U00011": "90A",
    "U00012": "90A",
    "U00013": "90B",
    "U00014": "90B",
    "U00015": "90B",
    "U00016": "90B",
    "U00007": "90C",
}
LMC_COVERS = ["90A", "90B"]
ACCOUNTS = [
    ("cd@example.org", "Dr Asha Patel", Role.CLINICAL_DIRECTOR, "U00001"),
    ("cd2@example.org", "Dr Tom Hughes", Role.CLINICAL_DIRECTOR, "U00002"),
    ("cd3@example.org", "Dr Leah Morgan", Role.CLINICAL_DIRECTOR, "U00003"),
    ("manager@example.org", "Jo Lewis", Role.PCN_MEMBER, "U00001"),
    ("icb@example.org", "Priya Shah", Role.ICB_LEAD, "QDM"),
    ("lmc@example.org", "Mark Owens", Role.LMC_OFFICER, LMC),
    ("admin@example.org", "Sam Taylor", Role.ADMIN, ADMIN_ORG),
    ("icb2@example.org", "Chris Evans", Role.ICB_LEAD, "QSD"),
    ("cd4@example.org", "Dr Nia Roberts", Role.CLINICAL_DIRECTOR, "U00007"),
    ("cd5@example.org", "Dr Ravi Kumar", Role.CLINICAL_DIRECTOR, "U00005"),
    ("cd6@example.org", "Dr Helen Price", Role.CLINICAL_DIRECTOR, "U00004"),
    ("cd10@example.org", "Dr Ben Clarke", Role.CLINICAL_DIRECTOR, "U00010"),
    ("cd11@example.org", "Dr Fatima Begum", Role.CLINICAL_DIRECTOR, "U00011"),
    ("cd12@example.org", "Dr Owen Jenkins", Role.CLINICAL_DIRECTOR, "U00012"),
    ("cd13@example.org", "Dr Grace Okafor", Role.CLINICAL_DIRECTOR, "U00013"),
    ("cd14@example.org", "Dr Michael Byrne", Role.CLINICAL_DIRECTOR, "U00014"),
    ("cd15@example.org", "Dr Sarah Whitfield", Role.CLINICAL_DIRECTOR, "U00015"),
    ("cd16@example.org", "Dr Daniel Mensah", Role.CLINICAL_DIRECTOR, "U00016"),
]


def load() -> int:
    """Create whatever of the demo data is missing; returns how many records were created."""
    created = 0

    def organisation(name: str, kind: OrgKind, code: str | None = None, area: Organisation | None = None):
        nonlocal created
        found = get_organisation_by_code(code) if code else get_organisation_by_name(name, kind)
        if found:
            return found
        created += 1
        org = Organisation(name=name, kind=kind, ods_code=code, area=area, named_to_lmc=code in NAMED_TO_LMC)
        db.session.add(org)
        db.session.flush()
        return org

    icb = organisation(ICB[0], OrgKind.ICB, ICB[1])
    orgs = {
        ICB[1]: icb,
        LMC: organisation(LMC, OrgKind.LMC, area=icb),
        ADMIN_ORG: organisation(ADMIN_ORG, OrgKind.ADMIN),
    }
    for name, code in PCNS:
        orgs[code] = organisation(name, OrgKind.PCN, code, area=icb)
    other_icb = organisation(OTHER_ICB[0], OrgKind.ICB, OTHER_ICB[1])
    orgs[OTHER_ICB[1]] = other_icb
    for name, code in OTHER_PCNS:
        orgs[code] = organisation(name, OrgKind.PCN, code, area=other_icb)
    for name, code, icb_code in SUB_ICBS:
        orgs[code] = organisation(name, OrgKind.SUB_ICB, code, area=orgs[icb_code])
    for pcn_code, sub_icb_code in PCN_SUB_ICBS.items():
        if orgs[pcn_code].parent_id is None:  # a database from before sub-ICB locations; an import's move stays
            orgs[pcn_code].parent = orgs[sub_icb_code]
    for code in LMC_COVERS:
        if orgs[code] not in orgs[LMC].covers:
            orgs[LMC].covers.append(orgs[code])
    hashed = None  # the one public password, hashed once (a slow hash) and shared by the demo accounts
    for email, name, role, org_key in ACCOUNTS:
        if get_user_by_email(email):
            continue
        user = User(email=email, name=name, role=role, organisation=orgs[org_key])
        if hashed is None:
            user.set_password(PASSWORD)
            hashed = user.password_hash
        user.password_hash = hashed
        db.session.add(user)
        created += 1
    db.session.commit()
    return created


def remove() -> int:
    """Take the demo accounts out of a database: sign them out everywhere and make them unusable for good.

    Accounts that never did anything are deleted; any that left history (answers, plans) are kept for it, but
    deactivated, renamed and given a random password, so the public demo password opens nothing.
    """
    import secrets

    from sqlalchemy.exc import IntegrityError

    from . import sessions

    removed = 0
    for email, *_ in ACCOUNTS:
        user = get_user_by_email(email)
        if user is None:
            continue
        sessions.end_all(user.id, sessions.EndReason.DEACTIVATED)
        removed += 1
        db.session.delete(user)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            user = get_user_by_email(email)
            user.active = False
            user.email = f"removed-demo-{user.id}@invalid"
            user.set_password(secrets.token_urlsafe(32))
            db.session.commit()
    return removed
