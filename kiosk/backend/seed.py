"""Fictional demo data for the embedded backend.

Every person, ID number, phone number and license number here is invented. ID numbers have
the real structure (region code, birth date, sequence, ISO 7064 MOD 11-2 check digit) so the
kiosk's age and validity rules run on them, and birth dates are computed from the day the
database is seeded, so the ages below hold on that day. Phone numbers are 1380000xxxx.

This module is pure data; `kiosk.backend.embedded` owns the schema and writes it.

Residents, by role (`DEMO_RESIDENTS[role]`), with ages on the seed day:

| role                       | id    | name       | age | what it exercises                     |
|----------------------------|-------|------------|-----|---------------------------------------|
| ordinary                   | R0001 | 张伟明     | 34  | demo default; id card, household      |
|                            |       |            |     | register, social security card,       |
|                            |       |            |     | marriage and birth medical certs      |
|                            |       |            |     | (a newborn, for 出生一件事)           |
| aged_85                    | R0002 | 李秀英     | 85  | age priority (80+); retirement cert   |
| veteran                    | R0003 | 王建国     | 60  | entitlements ("veteran",); no         |
|                            |       |            |     | retirement cert yet (退休一件事)      |
| serious_illness            | R0004 | 赵志强     | 52  | entitlements ("serious_illness",)     |
| appointment_today          | R0005 | 刘芳       | 38  | appointment now+10min .. now+40min    |
| appointment_passed         | R0006 | 孙丽娟     | 45  | appointment today, already ended      |
| appointment_tomorrow       | R0007 | 周建明     | 29  | appointment tomorrow 09:30, none today|
| no_licenses                | R0008 | 吴小平     | 67  | no electronic licenses at all         |
| compound_surname           | R0009 | 欧阳明华   | 50  | two-character surname                 |
| rare_name                  | R0010 | 𠮷祥云     | 41  | U+20BB7, outside the BMP; ID number   |
|                            |       |            |     | ends in X                             |
| rare_name_ext_a            | R0011 | 李䶮       | 27  | U+4DAE, CJK Extension A               |
| aged_80_birthday_today     | R0012 | 陈桂兰     | 80  | turns 80 on the seed day (boundary)   |
| aged_79_birthday_tomorrow  | R0013 | 钱德华     | 79  | turns 80 the next day (boundary)      |
| residence_permit           | R0014 | 马永福     | 35  | Anhui ID (340104); 居住证 expiring in |
|                            |       |            |     | 20 days; no Shanghai household reg.   |
| foreign_permanent_resident | R0015 | John Smith | 45  | 2023 永居证 number: leading 9, birth  |
|                            |       |            |     | date in digits 7-14, same check digit |
| all_licenses               | R0016 | 黄美玲     | 58  | every license kind a bundle exempts   |

Other people, who use no kiosk themselves, by role (`DEMO_PERSONS[role]`, the ID number): the
platform holds their electronic licenses, and lets the residents recorded as their relatives
use them in an application (身后一件事 exempts the deceased's ID card, household register and
death certificate); to anyone else they are unknown.

| role                        | born       | licenses                          | relative of |
|-----------------------------|------------|-----------------------------------|-------------|
| late_father_of_ordinary     | 1950-03-08 | id card, household register,      | R0001       |
|                             |            | death certificate                 |             |
| late_mother_of_all_licenses | 1941-11-20 | the same three                    | R0016       |
| late_uncle_no_licenses      | 1956-07-02 | none                              | R0001       |

The "birthday" roles hold on the seed day only: a database seeded yesterday has an
aged_79_birthday_tomorrow resident who is 80 today. Tests that need the boundary create a
fresh database with an injected clock.

Appointments are the exception to "seeded once": the embedded backend re-creates the demo
appointments (and only those) relative to the first moment it is used on each new day, so a
database created yesterday still has an appointment today for `appointment_today`, one that
already ended for `appointment_passed` and one tomorrow for `appointment_tomorrow`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Collection
from dataclasses import dataclass

from kiosk.common.clock import Clock

# ISO 7064 MOD 11-2 as used by GB 11643 (resident ID numbers) and, since 2023, by the
# foreign permanent resident ID (永居证).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The 18th character of an ID number whose first 17 digits are given ('0'-'9' or 'X')."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("expected 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def id_number_valid(number: str) -> bool:
    """True when an 18-character ID number's check digit matches (birth date not checked)."""
    if len(number) != 18:
        return False
    head, check = number[:17], number[17].upper()
    if not head.isascii() or not head.isdigit():
        return False
    return id_check_digit(head) == check


def make_id_number(prefix6: str, birth: dt.date, sequence: int) -> str:
    """Build a number: 6-digit prefix, birth date, 3-digit sequence, check digit.

    The sequence's last digit gives the sex (odd: male, even: female), as on real cards.
    """
    if len(prefix6) != 6 or not prefix6.isdigit() or not 0 <= sequence <= 999:
        raise ValueError("prefix must be 6 digits and sequence 0..999")
    head = f"{prefix6}{birth:%Y%m%d}{sequence:03d}"
    return head + id_check_digit(head)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years on `day` (someone born on 29 February ages on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def birth_date_of(id_number: str) -> dt.date:
    """The birth date in digits 7-14 of an 18-character ID number."""
    return dt.datetime.strptime(id_number[6:14], "%Y%m%d").date()


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _born(today: dt.date, age: int, days_since_birthday: int) -> dt.date:
    """A birth date giving `age` on `today`, the last birthday `days_since_birthday` ago."""
    return _years_before(today, age) - dt.timedelta(days=days_since_birthday)


DEMO_RESIDENTS: dict[str, str] = {
    "ordinary": "R0001",
    "aged_85": "R0002",
    "veteran": "R0003",
    "serious_illness": "R0004",
    "appointment_today": "R0005",
    "appointment_passed": "R0006",
    "appointment_tomorrow": "R0007",
    "no_licenses": "R0008",
    "compound_surname": "R0009",
    "rare_name": "R0010",
    "rare_name_ext_a": "R0011",
    "aged_80_birthday_today": "R0012",
    "aged_79_birthday_tomorrow": "R0013",
    "residence_permit": "R0014",
    "foreign_permanent_resident": "R0015",
    "all_licenses": "R0016",
}

# Titles as printed on the licenses; kinds are the stable ids the bundles refer to.
LICENSE_TITLES: dict[str, str] = {
    "id_card": "居民身份证",
    "household_register": "居民户口簿",
    "social_security_card": "社会保障卡",
    "marriage_certificate": "结婚证",
    "birth_medical_certificate": "出生医学证明",
    "residence_permit": "居住证",
    "retirement_certificate": "退休证",
    "foreign_permanent_resident_card": "外国人永久居留身份证",
    "death_certificate": "居民死亡医学证明（推断）书",
}


@dataclass(frozen=True)
class SeedLicense:
    kind: str
    number: str  # stored in full; the backend masks it on the way out
    valid_until: dt.date | None = None

    @property
    def title(self) -> str:
        return LICENSE_TITLES[self.kind]


@dataclass(frozen=True)
class SeedResident:
    resident_id: str
    role: str
    name: str
    id_number: str
    phone: str
    entitlements: tuple[str, ...] = ()
    licenses: tuple[SeedLicense, ...] = ()


@dataclass(frozen=True)
class SeedPerson:
    """Someone whose licenses the platform holds who uses no kiosk (a resident's late
    parent): looked up by ID number, for the residents in `relatives` only."""

    role: str
    id_number: str
    relatives: tuple[tuple[str, str], ...]  # (resident id, relation)
    licenses: tuple[SeedLicense, ...] = ()


@dataclass(frozen=True)
class SeedAppointment:
    appointment_id: str
    resident_id: str
    category: str
    start: dt.datetime
    end: dt.datetime


def _standard_licenses(
    n: int,
    id_number: str,
    today: dt.date,
    *,
    id_valid_years: int | None,
    extra: tuple[str, ...] = (),
    household: bool = True,
) -> tuple[SeedLicense, ...]:
    """The usual set for a Shanghai resident, with invented but well-formed numbers."""
    id_until = None if id_valid_years is None else today + dt.timedelta(days=365 * id_valid_years)
    lic = [SeedLicense("id_card", id_number, id_until)]
    if household:
        lic.append(SeedLicense("household_register", f"31{n:07d}"))
    lic.append(SeedLicense("social_security_card", f"S3100{n:04d}"))
    numbers = {
        "marriage_certificate": f"J310104-{today.year - 8}-{n:06d}",
        "birth_medical_certificate": f"Q310{today.year % 100:02d}{n:05d}",
        "retirement_certificate": f"TX31{n:08d}",
        "residence_permit": f"31011500{n:06d}",
    }
    lic.extend(SeedLicense(kind, numbers[kind]) for kind in extra)
    return tuple(lic)


def demo_residents(today: dt.date) -> list[SeedResident]:
    """The demo residents, with ages (see the module table) holding on `today`."""
    roles = {rid: role for role, rid in DEMO_RESIDENTS.items()}
    # (id, name, region, age, days since last birthday, male, entitlements)
    people: list[tuple[str, str, str, int, int, bool, tuple[str, ...]]] = [
        ("R0001", "张伟明", "310104", 34, 120, True, ()),
        ("R0002", "李秀英", "310101", 85, 40, False, ()),
        ("R0003", "王建国", "310115", 60, 100, True, ("veteran",)),
        ("R0004", "赵志强", "310106", 52, 200, True, ("serious_illness",)),
        ("R0005", "刘芳", "310105", 38, 10, False, ()),
        ("R0006", "孙丽娟", "310107", 45, 300, False, ()),
        ("R0007", "周建明", "310109", 29, 60, True, ()),
        ("R0008", "吴小平", "310110", 67, 150, True, ()),
        ("R0009", "欧阳明华", "310112", 50, 90, False, ()),
        ("R0010", "𠮷祥云", "310113", 41, 33, True, ()),
        ("R0011", "李䶮", "310114", 27, 222, True, ()),
        ("R0012", "陈桂兰", "310104", 80, 0, False, ()),
        ("R0013", "钱德华", "310101", 79, 364, True, ()),
        ("R0014", "马永福", "340104", 35, 180, True, ()),
        ("R0016", "黄美玲", "310104", 58, 150, False, ()),
    ]
    extras: dict[str, tuple[str, ...]] = {
        "R0001": ("marriage_certificate", "birth_medical_certificate"),
        "R0002": ("retirement_certificate",),
        "R0003": ("marriage_certificate",),
        "R0005": ("marriage_certificate",),
        "R0006": ("marriage_certificate",),
        "R0008": (),
        "R0009": ("marriage_certificate",),
        "R0012": ("retirement_certificate",),
        "R0013": ("retirement_certificate", "marriage_certificate"),
        # Every kind a bundle can exempt, for "all materials 免于提交" demos and tests.
        "R0016": ("marriage_certificate", "birth_medical_certificate", "retirement_certificate",
                  "residence_permit"),
    }
    out: list[SeedResident] = []
    for n, (rid, name, region, age, since, male, ent) in enumerate(people, start=1):
        birth = _born(today, age, since)
        if rid == "R0013":
            # Exactly one day short of 80, whatever the length of the year.
            birth = _years_before(today + dt.timedelta(days=1), 80)
        id_number = make_id_number(region, birth, 100 + 2 * n + (1 if male else 0))
        if rid == "R0008":
            licenses: tuple[SeedLicense, ...] = ()
        elif rid == "R0014":
            licenses = _standard_licenses(n, id_number, today, id_valid_years=12,
                                          household=False)
            licenses += (
                SeedLicense("residence_permit", f"31011500{n:06d}",
                            today + dt.timedelta(days=20)),
            )
        else:
            # ID cards of people 46 and older are valid for life (长期).
            licenses = _standard_licenses(
                n, id_number, today, id_valid_years=None if age >= 46 else 9,
                extra=extras.get(rid, ()),
            )
        out.append(
            SeedResident(rid, roles[rid], name, id_number, f"1380000{n:04d}", ent, licenses)
        )
    # 2023 永居证: '9', place of issue (31 Shanghai), ISO 3166 numeric nationality
    # (826 United Kingdom), birth date, sequence, check digit.
    fp_birth = _born(today, 45, 75)
    fp_number = make_id_number("931826", fp_birth, 11)
    out.append(
        SeedResident(
            "R0015", roles["R0015"], "John Smith", fp_number, "13800000015", (),
            (
                SeedLicense("foreign_permanent_resident_card", fp_number,
                            today + dt.timedelta(days=365 * 10)),
                SeedLicense("social_security_card", "S31000015"),
            ),
        )
    )
    return out


# Fixed birth dates: no rule reads these people's age, and tests type the numbers.
DEMO_PERSONS: dict[str, str] = {
    "late_father_of_ordinary": make_id_number("310104", dt.date(1950, 3, 8), 117),
    "late_mother_of_all_licenses": make_id_number("310104", dt.date(1941, 11, 20), 128),
    "late_uncle_no_licenses": make_id_number("310110", dt.date(1956, 7, 2), 135),
}


def demo_persons() -> list[SeedPerson]:
    """The demo's other people (see the module's second table)."""

    def late(n: int, number: str) -> tuple[SeedLicense, ...]:
        return (SeedLicense("id_card", number), SeedLicense("household_register", f"31{n:07d}"),
                SeedLicense("death_certificate", f"SW310104{n:06d}"))

    return [
        SeedPerson("late_father_of_ordinary", DEMO_PERSONS["late_father_of_ordinary"],
                   ((DEMO_RESIDENTS["ordinary"], "parent"),),
                   late(101, DEMO_PERSONS["late_father_of_ordinary"])),
        SeedPerson("late_mother_of_all_licenses", DEMO_PERSONS["late_mother_of_all_licenses"],
                   ((DEMO_RESIDENTS["all_licenses"], "parent"),),
                   late(116, DEMO_PERSONS["late_mother_of_all_licenses"])),
        SeedPerson("late_uncle_no_licenses", DEMO_PERSONS["late_uncle_no_licenses"],
                   ((DEMO_RESIDENTS["ordinary"], "other"),)),
    ]


_ONE_DAY = dt.timedelta(days=1)
HALL_MORNING = dt.time(10, 0)


def hall_hours_clock(real: Clock) -> Clock:
    """A clock for scripted demos and UI tests: today's date, starting at 10:00 and running.

    The demo appointments cannot all mean what their roles say at every hour: between
    midnight and 00:45 no 30-minute slot of today has ended 15 minutes ago, so
    `appointment_passed` is still on time, and after 23:45 `appointment_today` is already
    over. A demo or test run at night on the wall clock would show a different outcome
    from one run by day (CI failed this way at 00:20 Shanghai time). The date stays the
    real one, so "today" in the statistics and the backend agree with the calendar.
    """
    now = real()
    start = dt.datetime.combine(now.date(), HALL_MORNING, tzinfo=now.tzinfo)
    t0 = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - t0)


def demo_appointments(now: dt.datetime, categories: Collection[str]) -> list[SeedAppointment]:
    """The demo appointments relative to `now` (an aware Asia/Shanghai datetime).

    * appointment_today: now+10min .. now+40min (so checking in now is on time), but
      starting no later than 23:25, so it stays on the same day and is still on time
      until 00:10;
    * appointment_passed: 08:00-08:30 when seeded after 09:30, else ending an hour and a half
      before now (clamped to midnight: seeded before 01:30 it has not ended yet);
    * appointment_tomorrow: 09:30-10:00 the next day.

    `categories` are the catalog's ids; a preferred category missing from the catalog falls
    back to the first one, so an edited catalog never yields an appointment nobody can serve.
    """
    ids = list(categories)

    def pick(preferred: str) -> str:
        return preferred if preferred in ids else ids[0]

    minute = now.replace(second=0, microsecond=0)
    midnight = minute.replace(hour=0, minute=0)
    half_hour = dt.timedelta(minutes=30)

    today_start = min(minute + dt.timedelta(minutes=10),
                      midnight + dt.timedelta(hours=23, minutes=25))
    if minute >= midnight + dt.timedelta(hours=9, minutes=30):
        passed_start = midnight + dt.timedelta(hours=8)
    else:
        passed_start = max(midnight, minute - dt.timedelta(hours=2))
    tomorrow_start = (midnight + _ONE_DAY).replace(hour=9, minute=30)

    def make(role: str, category: str, start: dt.datetime) -> SeedAppointment:
        rid = DEMO_RESIDENTS[role]
        return SeedAppointment(
            f"AP{start.date():%Y%m%d}{rid}", rid, pick(category), start, start + half_hour
        )

    return [
        make("appointment_passed", "medical_insurance", passed_start),
        make("appointment_today", "social_security", today_start),
        make("appointment_tomorrow", "household", tomorrow_start),
    ]
