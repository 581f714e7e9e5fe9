"""`manage.py import_contacts`: the API's rules per row, all or nothing, every error at once."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from ally360.tenancy import tenant_context
from contacts.models import Contact

pytestmark = pytest.mark.django_db

GOOD = (
    "\ufeffname;id_type;id_number;phones;is_customer;is_supplier;address;city;credit_limit\n"
    "Distribuidora Andina SAS;NIT;900.123.456;601 2345678|300 1234567;no;sí;Cra 7 # 12-30;"
    "Bogotá;\n"
    "Ana Gómez;CC;52.123.456;;si;;;;500000\n"
    ";;;;;;;;\n"  # an empty line of a spreadsheet: skipped
    "Ferretería El Tornillo;31;800197268-4;;;;;;\n"
)


def _write(tmp_path, text, name="contactos.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _contacts(company):
    with tenant_context(company):
        return {c.name: c for c in Contact.objects.filter(is_final_consumer=False)}


def test_a_spreadsheet_of_contacts_is_imported_with_the_apis_rules(
    tmp_path, company_a, company_b, capsys
):
    call_command("import_contacts", _write(tmp_path, GOOD), company=str(company_a.pk))
    assert "3 contacts imported" in capsys.readouterr().out
    contacts = _contacts(company_a)
    andina = contacts["Distribuidora Andina SAS"]
    assert (andina.id_type, andina.id_number, andina.check_digit) == ("31", "900123456", "8")
    assert (andina.is_customer, andina.is_supplier) == (False, True)
    assert andina.phones == ["601 2345678", "300 1234567"]
    assert andina.city == "Bogotá" and andina.addresses[0]["line"] == "Cra 7 # 12-30"
    ana = contacts["Ana Gómez"]
    assert (ana.id_type, ana.id_number, ana.credit_limit) == ("13", "52123456", Decimal("500000"))
    assert contacts["Ferretería El Tornillo"].check_digit == "4"
    assert _contacts(company_b) == {}  # only the named company


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path, company_a, capsys):
    bad = (
        "name,id_type,id_number,email\n"
        "Bien SAS,NIT,900123456,\n"
        "Dígito malo,NIT,900123456-1,\n"  # wrong check digit
        ",CC,1020304050,\n"  # no name
        "Repetido,CC,52123456,\n"
        "Repetido otra vez,CC,52123456,\n"  # the same person twice in the file
        "Correo,CC,79888777,no-es-un-correo\n"
        "Tipo raro,XX,123456,\n"
    )
    with pytest.raises(CommandError, match="5 of 7 rows refused: nothing was imported"):
        call_command("import_contacts", _write(tmp_path, bad), company=str(company_a.pk))
    errors = capsys.readouterr().err
    assert "line 2" not in errors
    for line, text in [
        (3, "id_number"),
        (4, "name"),
        (6, "id_number"),  # already in the file, line 5
        (7, "email"),
        (8, "id_type"),
    ]:
        assert (
            f"line {line}: " in errors and text in errors.split(f"line {line}: ")[1].split("\n")[0]
        ), errors
    assert "line 5" not in errors  # the first of the two is fine on its own
    # A NIT already used (line 2's, had it been written) and the duplicate of line 5: rolled back.
    assert _contacts(company_a) == {}


def test_an_address_without_its_city_or_a_city_without_its_address_names_the_column(
    tmp_path, company_a, capsys
):
    rows = (
        "name,id_type,id_number,address,city,dane_code\n"
        "Solo ciudad,CC,79111222,,Medellín,05001\n"
        "Solo dirección,CC,79111333,Calle 10 # 4-20,,\n"
    )
    with pytest.raises(CommandError, match="2 of 2 rows refused"):
        call_command("import_contacts", _write(tmp_path, rows), company=str(company_a.pk))
    errors = capsys.readouterr().err.splitlines()
    assert errors[0].startswith("line 2: address: ") and "addresses" not in errors[0], errors
    assert errors[1].startswith("line 3: city: "), errors
    assert _contacts(company_a) == {}


def test_a_dry_run_checks_and_writes_nothing(tmp_path, company_a, capsys):
    call_command("import_contacts", _write(tmp_path, GOOD), company=str(company_a.pk), dry_run=True)
    assert "3 contacts are valid (dry run" in capsys.readouterr().out
    assert _contacts(company_a) == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ("nombre,id_type,id_number\nAna,CC,52123456\n", "Unknown columns: nombre"),
        ("name,id_type\nAna,CC\n", "Missing columns: id_number"),
        ("", "empty"),
        ("name,id_type,id_number\nAna,CC,52123456,extra\n", "1 of 1 rows refused"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(tmp_path, company_a, text, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_contacts", _write(tmp_path, text), company=str(company_a.pk))
    assert _contacts(company_a) == {}


def test_a_file_that_is_not_utf8_or_a_company_that_does_not_exist_is_a_clear_error(
    tmp_path, company_a
):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,id_type,id_number\nPeña,CC,52123456\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_contacts", str(path), company=str(company_a.pk))
    with pytest.raises(CommandError, match="not a company id"):
        call_command("import_contacts", str(path), company="tienda-a")
    with pytest.raises(CommandError, match="No company"):
        call_command("import_contacts", str(path), company="00000000-0000-0000-0000-000000000000")
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_contacts", str(tmp_path / "missing.csv"), company=str(company_a.pk))


@pytest.mark.parametrize("rows_after", [2, 6000])
def test_a_quote_never_closed_is_an_error_naming_its_line_and_nothing_is_written(
    tmp_path, company_a, rows_after
):
    """The lenient reader took every line after the quote into one cell: two rows were lost
    behind "1 contacts imported", and a long file stopped on a traceback (a cell over the
    reader's limit)."""
    rows = "".join(f"Cliente {n},CC,{52000000 + n},\n" for n in range(rows_after))
    text = 'name,id_type,id_number,notes\nAna,CC,51123456,"cliente VIP\n' + rows
    with pytest.raises(CommandError, match="Line 2: .*quote"):
        call_command("import_contacts", _write(tmp_path, text), company=str(company_a.pk))
    assert _contacts(company_a) == {}
