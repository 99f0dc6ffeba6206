"""docs/BUNDLES.md, the bundle authors' reference, generated from the bundle schema.

Every key's type, default and meaning come from the declarations in bundles.py, as
docs/CONFIG.md comes from the config schema, so the reference cannot drift from what the
loader accepts: a test regenerates the file and compares, and another loads the worked
example below and checks that it uses every key of every part of a bundle. What the tables
cannot say (how a resident moves through a bundle, the YAML traps) is the prose here.

API::

    WORKED_EXAMPLE: str         # a complete bundle file using every key
    bundle_reference() -> str   # the Markdown of docs/BUNDLES.md (`kiosk bundle-reference`)
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from kiosk.domain.bundles import (
    _YES_NO_LABELS,
    LICENSE_KINDS,
    LICENSE_SOURCE_PREFIX,
    MATERIALS_TARGET,
    PREFILL_SOURCES_RESIDENT,
    AnswerIs,
    Bundle,
    Department,
    FormField,
    Ineligibility,
    Material,
    Option,
    Prefill,
    Question,
    Then,
)
from kiosk.domain.text import Bilingual

# Each part of a bundle, with the key (or keys) it is written under.
PARTS: tuple[tuple[type[BaseModel], str], ...] = (
    (Bundle, "the top level of the file"),
    (Department, "`departments`"),
    (Question, "`questions`"),
    (Option, "`questions[].options`"),
    (Then, "`options[].then`"),
    (Ineligibility, "`then.ineligible`"),
    (Material, "`materials`"),
    (FormField, "`fields`"),
    (AnswerIs, "`fields[].skip_if`"),
    (Prefill, "`prefilled`"),
    (Bilingual, "`{zh: ..., en: ...}`, every text"),
)

WORKED_EXAMPLE = """\
# 一件事 bundle: 新生儿参保一件事 (an illustration of the format for this reference, not a
# shipped bundle). Check a folder of bundle files with: kiosk check-bundles config/bundles
id: newborn_insurance
order: 90
title: {zh: 新生儿参保一件事, en: Insurance for a Newborn}
summary:
  zh: 宝宝的医保参保和社保卡一次办
  en: The baby's medical insurance and social security card in one application
description:
  zh: 宝宝出生后，父母一方一次申请，即可办理城乡居民医保参保登记和社会保障卡申领。
  en: >-
    After your baby is born, one parent applies once for the baby's residents' medical
    insurance and social security card.
departments:
  - name: {zh: 市医疗保障局, en: Healthcare Security Bureau}
    services:
      - {zh: 城乡居民医保参保登记, en: "Residents' medical insurance enrolment"}
  - name: {zh: 市人力资源和社会保障局, en: Human Resources and Social Security Bureau}
    services:
      - {zh: 社会保障卡申领, en: Social security card application}
trips_saved: 2
ticket_category: medical_insurance
processing_days: 10
disclaimer:
  zh: 参保缴费标准以医保部门的最新规定为准。
  en: The contribution rates are those the medical insurance bureau sets.
questions:
  - id: hukou
    kind: choice
    text: {zh: 宝宝的户口登记在哪里？, en: "Where is the baby's hukou registered?"}
    options:
      - id: shanghai
        label: {zh: 本市, en: In Shanghai}
        then:
          add_materials: [child_household_register]
      - id: permit
        label: {zh: 外省市（父母一方持居住证）, en: "Elsewhere, with a residence permit"}
        then:
          skip_to: card_by_post
          add_materials: [residence_permit]
      - id: neither
        label: {zh: 以上都不是, en: Neither}
        then:
          ineligible:
            reason:
              zh: 宝宝需在本市登记户口，或父母一方持有上海市居住证。
              en: The baby needs a Shanghai hukou, or a parent a Shanghai residence permit.
            go_instead:
              zh: 请到户籍所在地的医保经办机构办理，或拨打 12345 咨询。
              en: Apply where the hukou is registered, or call 12345.
  - id: card
    kind: yes_no
    text: {zh: 是否同时申领社会保障卡？, en: "Do you also want the social security card?"}
    help: {zh: 宝宝就医时可以用社保卡结算。, en: The card pays at hospitals.}
    options:
      - id: "yes"
        label: {zh: 是，一起办, en: "Yes, now"}
      - id: "no"
        label: {zh: 否，以后再办, en: "No, later"}
        then:
          skip_to: materials
  - id: card_by_post
    kind: yes_no
    text: {zh: 社保卡是否邮寄到家？, en: "Should the card be posted to you?"}
materials:
  - id: birth_certificate
    title: {zh: 宝宝的出生医学证明, en: "The baby's birth medical certificate"}
    license: birth_medical_certificate
    license_of: child_id_number
  - id: child_household_register
    title: {zh: 宝宝的居民户口簿, en: "The baby's household register"}
    license: household_register
    license_of: child_id_number
    conditional: true
  - id: id_card
    title: {zh: 申请人居民身份证, en: Your resident ID card}
    license: id_card
  - id: residence_permit
    title: {zh: 父母一方的上海市居住证, en: "A parent's Shanghai residence permit"}
    license: residence_permit
    conditional: true
  - id: photo
    title: {zh: 宝宝免冠照片, en: "The baby's photo"}
    license: null
    note: {zh: 或数码照片回执, en: or a digital photo receipt}
fields:
  - id: child_id_number
    label: {zh: 宝宝的身份证号码, en: "The baby's ID number"}
    kind: other_id_number
    person: {zh: 宝宝, en: the baby}
    hint: {zh: 见户口簿或出生医学证明, en: On the household register or birth certificate}
  - id: birth_date
    label: {zh: 宝宝出生日期, en: "The baby's date of birth"}
    kind: date
    min_date: "-12 months"
    max_date: today
  - id: other_parent
    label: {zh: 另一方父（母）身份证号码, en: "The other parent's ID number"}
    kind: id_number
    required: false
    hint: {zh: 可不填, en: Optional}
  - id: phone
    label: {zh: 手机号码, en: Mobile number}
    kind: phone
  - id: postcode
    label: {zh: 邮寄地址的邮政编码, en: Postcode of the address}
    kind: digits
    min_len: 6
    max_len: 6
    skip_if:
      - {question: card_by_post, option: "no"}
      - {question: card, option: "no"}
  - id: collect_on
    label: {zh: 到窗口领卡的日期, en: Day to collect the card}
    kind: date
    allow_future: true
    allow_past: false
    skip_if:
      - {question: card_by_post, option: "yes"}
      - {question: card, option: "no"}
  - id: bank_card
    label: {zh: 医保缴费扣款银行卡号, en: Bank card for the contributions}
    kind: bank_card
    required: false
prefilled:
  - id: name
    label: {zh: 申请人姓名, en: "Applicant's name"}
    source: resident.name
  - id: id_number
    label: {zh: 申请人身份证号码, en: "Applicant's ID number"}
    source: resident.id_number
  - id: phone
    label: {zh: 申请人手机号码, en: "Applicant's mobile number"}
    source: resident.phone
  - id: marriage
    label: {zh: 结婚证编号, en: Marriage certificate No.}
    source: license:marriage_certificate
next_steps:
  - zh: 医保部门审核后完成参保登记
    en: The medical insurance bureau enrols the baby after checking
  - zh: 社保卡制成后邮寄或到窗口领取
    en: The card is posted, or collected at the window
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " or ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if annotation is type(None):
        return "null"
    if annotation is Bilingual:
        return "text"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return {str: "string", int: "integer", bool: "true or false"}.get(
        annotation, getattr(annotation, "__name__", str(annotation)))


def _default(info: FieldInfo) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "**required**"
    if info.default_factory is not None:
        return "none"
    value = info.default
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _table(model: type[BaseModel]) -> list[str]:
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, info in model.model_fields.items():
        meaning = (info.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{key}` | {_type_name(info.annotation)} | {_default(info)} | {meaning} |")
    return rows


def _field_kinds() -> list[str]:
    kinds = typing.get_args(FormField.model_fields["kind"].annotation)
    return [f"`{k}`" for k in kinds]


_INTRO = """\
# 一件事 bundle files (`config/bundles/*.yaml`)

Generated from `kiosk/domain/bundles.py` by `kiosk bundle-reference`; do not edit by hand.
A bundle (一件事) is one guided application that several departments handle together:
退休一件事, 出生一件事, 身后一件事. Center staff write each bundle as one YAML file in
`config/bundles/`; the kiosk reads the folder at start and offers every valid file under
一件事一次办. After editing, check the folder:

```sh
kiosk check-bundles config/bundles
```

It prints `OK: N bundles`, or every problem of every broken file at once: the file, the
key path inside it (`questions[1].options[0].then.skip_to`) and what was expected. The kiosk
skips a broken file (the others are still offered) and lists it on the maintenance screen's
一件事文件 page with the same messages.

## How a resident goes through a bundle

One screen per step, in this order:

1. **这件事包括**: `description`, the `departments` and their `services`, how many visits it
   saves (`trips_saved`) and how many working days it takes (`processing_days`);
   `disclaimer` under them.
2. **确认身份**: the resident shows the personal code (随申码); the kiosk learns who they
   are and which electronic licenses (电子证照) the platform holds for them.
3. **The questions**, one per screen, in file order. Choosing an answer moves on by itself.
   An answer's `then` can skip the following questions (`skip_to`), make a material
   necessary (`add_materials`), or end the bundle with an explanation and where to go
   instead (`ineligible`).
4. **Another person's ID number** (fields of kind `other_id_number`: the deceased, the
   child, the person represented), each on its own keypad screen.
5. **材料清单**: the materials on the resident's path. A material whose `license` the
   platform holds is 免于提交 (exempt: the department fetches the electronic license); with
   `license_of`, the license looked up is the other person's, by the number typed in step 4.
   The rest is listed as what to bring.
6. **请核对您的信息**: the `prefilled` values, masked (张*, 310***********1234).
7. **The other fields**, one keypad screen each (a field is left out after an answer its
   `skip_if` names).
8. **确认提交**: the typed values, masked, and how many materials are still to bring; then
   the receipt prints with the reference number, the materials still to bring, the exempt
   ones and the `next_steps`.

## A worked example

A complete file that uses every key. Save it as `config/bundles/newborn_insurance.yaml`
(the file name is the `id`) and it runs without any code:

```yaml
{example}```

What it does:

- **hukou** (`choice`): 本市 adds the baby's household register to the materials; 外省市
  skips the `card` question (`skip_to: card_by_post`) and adds the residence permit;
  以上都不是 ends the bundle (`ineligible`) with the reason and where to go instead.
- **card** (`yes_no` with its own labels 是，一起办 / 否，以后再办): 否 skips every
  remaining question (`skip_to: materials`).
- **card_by_post** (`yes_no` without `options`): answered 是 or 否, and nothing else
  happens, except that the fields' `skip_if` read the answer: `postcode` is asked only if the
  card is posted, `collect_on` only if it is collected.
- **child_id_number** (`other_id_number`, `person` 宝宝) comes right after the questions:
  the kiosk checks its check digit, refuses the applicant's own number ("这是您本人的身份证
  号码。这里请输入宝宝的身份证号码。") and looks up the baby's licenses by it, so that the
  birth certificate and the household register (`license_of: child_id_number`) are exempt
  when the platform holds them.
- **birth_date** accepts only the last 12 months, up to today (`min_date`, `max_date`); the
  screen says which days before anything is typed, and the error names the bound.
- **collect_on** accepts today and later only (`allow_future: true`, `allow_past: false`).
- **other_parent** and **bank_card** may be left empty (`required: false`).
- **prefilled** shows the applicant's name, ID number and phone, and the marriage
  certificate's number, masked.

## Keys

Every text is `{{zh: 中文, en: English}}` (Chinese is shown unless the resident chose
English). Ids are lower-case letters, digits and `_`, starting with a letter, at most 32
characters; an id appears once in its list. Unknown keys are errors.
"""

_DETAILS = """\
## Details

### Yes/no questions

A `yes_no` question has exactly the options `yes` and `no`. Leave `options` out when the
answer only needs recording, or list only the options that do something (a `then`); the
others are added. An option without `label` is labelled {yes_zh} / {no_zh}
({yes_en} / {no_en}); give a `label` for another wording (是，一起办). Write the ids in
quotes (`"yes"`, `"no"`): YAML reads a bare yes or no as true or false (the loader accepts
that too).

### Where `skip_to` may go

`skip_to` names a later question of the same bundle, or `{materials}` to skip every remaining
question. It only skips forward. A material named in `add_materials` must be marked
`conditional: true`, and a `conditional: true` material must be added by some answer.

### Field kinds

Each field is typed on the kiosk's keypad; the kind decides what is accepted:

- `phone`: a mainland mobile number, 11 digits starting 13 to 19.
- `bank_card`: 12 to 19 digits passing the Luhn check.
- `date`: YYYYMMDD or YYYY-MM-DD, a real day from 1900; by default up to today
  (`allow_future`, `allow_past`, or `min_date` / `max_date`).
- `id_number`: a resident ID number, 17 digits and a digit or X, with a valid check digit
  and birth date.
- `other_id_number`: the same, for another person (`person` says whom): never the
  applicant's own number, asked before the materials list, and what `license_of` names.
- `digits`: digits only, `min_len` to `max_len` of them (1 to 64).

All kinds: {kinds}.

### Date bounds (`min_date`, `max_date`)

`today`, a day (`2024-01-31`), or a distance from the day the resident types it: a sign,
a number and `day(s)`, `week(s)`, `month(s)` or `year(s)`: `"-12 months"`, `"-30 days"`,
`"+2 weeks"`, `"-1 year"`. A month back from 31 March is the last day of February.
`min_date` replaces `allow_past` and `max_date` replaces `allow_future` (give one or the
other); `min_date` may not be later than `max_date`.

### Another person (`other_id_number`, `license_of`)

A field of kind `other_id_number` holds another person's ID number: the deceased (身后一件事),
the child, the person represented. The kiosk checks the check digit and refuses the
applicant's own number. A material with `license` and `license_of: <that field's id>` is
exempt when the platform holds that license of that person, looked up by the number
(only for a relative on the platform's record); otherwise it is listed to bring. The number
is shown masked after it is typed (310***********1234), never printed and never logged; it
is sent with the application as the department's record.

### License kinds

`license` and `license:<kind>` take one of: {licenses}.

### Prefilled sources

{sources}, or `{prefix}<kind>` (the license's number, masked).

### Writing YAML without surprises

- Put a text in quotes when it holds `: ` (a colon and a space), ` #`, or, inside
  `{{...}}`, `, ` (a comma and a space), or when it starts with `?`, `-`, `[`, `{{`, `*`,
  `&`, `!`, `%`, `@` or a quote: `en: "Note: bring the originals"`,
  `{{zh: "甲, 乙", en: "A, B"}}`. Chinese punctuation (，：？) needs no quotes.
- The separator after a key is an ASCII colon and a space: `zh: 文本`, never `zh：文本`.
- `"yes"` and `"no"` as ids in quotes; `null` (no license) without.
- Indent with spaces, never tabs; items of a list start with `- ` at the same column.
- A long text may continue on the next lines after `>-`, indented further.

The loader names these traps when it meets them, for example:

```
questions[0].text.乙: no such key: inside {{...}} a comma and a space end a text, ...
YAML syntax error at line 12, column 11: mapping values are not allowed in this context;
line 12: the text holds ": " (a colon and a space), which YAML reads as a new key: put the
whole text in quotes, ...
```
"""


def bundle_reference() -> str:
    """The Markdown of docs/BUNDLES.md."""
    out = [_INTRO.replace("{example}", WORKED_EXAMPLE).replace("{{", "{").replace("}}", "}")]
    for model, where in PARTS:
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        out += [f"### {model.__name__}", "", f"Written as {where}. {doc}", "",
                *_table(model), ""]
    out.append(_DETAILS.format(
        yes_zh=_YES_NO_LABELS["yes"]["zh"], no_zh=_YES_NO_LABELS["no"]["zh"],
        yes_en=_YES_NO_LABELS["yes"]["en"], no_en=_YES_NO_LABELS["no"]["en"],
        materials=MATERIALS_TARGET, kinds=", ".join(_field_kinds()),
        licenses=", ".join(f"`{k}`" for k in sorted(LICENSE_KINDS)),
        sources=", ".join(f"`{s}`" for s in PREFILL_SOURCES_RESIDENT),
        prefix=LICENSE_SOURCE_PREFIX,
    ))
    return "\n".join(out).rstrip("\n") + "\n"
