"""`manage.py import_products`: simple products with opening stock, all or nothing."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from ally360.tenancy import tenant_context
from inventory.imports import price_before_tax
from inventory.models import Stock, StockMovement
from products.models import Brand, Category, Product, Variant
from products.selectors import price_with_rates

pytestmark = pytest.mark.django_db


def _write(tmp_path, text):
    path = tmp_path / "productos.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _bodega(company):
    from pos.services import pdv_create

    with tenant_context(company):
        return pdv_create(name="Bodega", code="BOD")


def test_a_spreadsheet_of_products_is_imported_with_its_opening_stock(
    tmp_path, company_a, company_b, capsys
):
    _bodega(company_a)
    text = (
        "name;sku;barcode;price_with_tax;price;cost;taxes;category;brand;unit;stock:principal;"
        "stock:BOD\n"
        "Gaseosa 400 ml;GAS-400;7702004003508;3000;;1500;IVA 19%;Bebidas > Gaseosas;Postobón;;"
        "24;12\n"
        "Arroz 1 kg;ARR-1;;;4200;3100;iva excluido;Granos;;;10;\n"
        "Queso;QUE-1;;;18000.50;12000;IVA 5%;Lácteos;;kg;2.5;\n"
        "Bolsa;BOL-1;;;200;;;;;;;\n"
    )
    call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    assert "4 products imported" in capsys.readouterr().out
    with tenant_context(company_a):
        soda = Variant.objects.select_related("product__category__parent").get(sku="GAS-400")
        assert soda.price == Decimal("2521.01")
        assert price_with_rates(soda.price, [Decimal("19")]) == Decimal("3000.00")
        assert soda.product.category.name == "Gaseosas"
        assert soda.product.category.parent.name == "Bebidas"
        assert soda.product.brand.name == "Postobón"
        stock = {
            s.pdv.code: s.quantity for s in Stock.objects.filter(variant=soda).select_related("pdv")
        }
        assert stock == {"PRINCIPAL": Decimal("24"), "BOD": Decimal("12")}
        assert StockMovement.objects.filter(variant=soda, kind="initial").count() == 2
        assert Stock.objects.get(variant=soda, pdv__code="BOD").average_cost == Decimal("1500")
        cheese = Variant.objects.select_related("product__unit").get(sku="QUE-1")
        assert cheese.product.unit.code == "kg" and cheese.price == Decimal("18000.50")
        assert [t.name for t in Product.objects.get(name="Arroz 1 kg").taxes.all()] == [
            "IVA excluido"
        ]
        assert not Stock.objects.filter(variant__sku="BOL-1").exists()
        # An existing category is found without case, not made twice.
        assert Category.objects.filter(name__iexact="bebidas").count() == 1
    with tenant_context(company_b):
        assert not Product.objects.exists()


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path, company_a, capsys):
    text = (
        "name,sku,price,taxes,unit,stock:PRINCIPAL,stock:NOPE\n"
        "Bien,OK-1,1000,IVA 19%,,5,\n"
        "Sin precio,NP-1,,,,,\n"  # no price
        "Impuesto raro,TX-1,1000,IVA 21%,,,\n"  # no such tax
        "Dos IVA,TX-2,1000,IVA 19%|IVA 5%,,,\n"  # two IVAs
        "Unidad rara,UN-1,1000,,docena,,\n"  # no such unit
        "Repetido,ok-1,1000,,,,\n"  # line 2's SKU, another case
        "Medio,HALF-1,1000,,,0.5,\n"  # half a whole unit
        "Bodega inexistente,BOD-1,1000,,,,3\n"  # stock at a PDV that does not exist
        "Negativo,NEG-1,-5,,,,\n"
    )
    with pytest.raises(CommandError, match="8 of 9 rows refused"):
        call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    errors = capsys.readouterr().err
    for line, column in [
        (3, "price"),  # the service: a simple product needs a sku and a price
        (4, "taxes"),
        (5, "taxes"),
        (6, "unit"),
        (7, "sku"),
        (8, "initial_stock"),
        (9, "stock:NOPE"),
        (10, "price"),
    ]:
        assert f"line {line}: " in errors, errors
        assert column in errors.split(f"line {line}: ")[1].split("\n")[0], errors
    assert "line 2" not in errors
    with tenant_context(company_a):
        assert not Product.objects.exists()
        assert not StockMovement.objects.exists()


def test_a_shelf_price_no_price_before_tax_reaches_is_charged_a_cent_below(
    tmp_path, company_a, capsys
):
    """A cent before tax adds two with 19 % IVA, so about one shelf price in six cannot be
    charged exactly: the till price taken is the highest below it (never above what the shelf
    says), and the import says so."""
    rates = [Decimal("19")]
    for shelf in ("3000", "0", "1234.55", "99999.98"):
        base, till = price_before_tax(shelf, rates)
        assert till == price_with_rates(base, rates) == Decimal(shelf)
    base, till = price_before_tax("13", rates)  # 10.92 -> 12.99, 10.93 -> 13.01
    assert (base, till) == (Decimal("10.92"), Decimal("12.99"))

    text = "name,sku,price_with_tax,taxes\nChicle,CHI-1,13,IVA 19%\n"
    call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    out = capsys.readouterr().out
    assert "line 2: " in out and "13,00" in out and "12,99" in out and "1 products imported" in out
    with tenant_context(company_a):
        assert Variant.objects.get(sku="CHI-1").price == Decimal("10.92")


def test_under_a_percentage_default_list_the_till_charges_the_shelf_price(
    tmp_path, company_a, capsys
):
    from products.models import PriceList
    from products.selectors import variant_price

    with tenant_context(company_a):
        PriceList.objects.filter(is_default=True).update(kind="percentage", percentage=10)
    text = "name;sku;price_with_tax;taxes\nGaseosa;GAS-400;11900;IVA 19%\n"
    call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    output = capsys.readouterr()
    assert "line 2" not in output.out + output.err  # imported exactly: no warning
    with tenant_context(company_a):
        variant = Variant.objects.get(sku="GAS-400")
        charged = variant_price(variant, PriceList.objects.get(is_default=True))
    assert variant.price == Decimal("11111.111111")
    assert price_with_rates(charged, [Decimal("19")]) == Decimal("11900.00")


def test_a_default_list_of_100_percent_off_is_a_row_error(tmp_path, company_a, capsys):
    from products.models import PriceList

    with tenant_context(company_a):
        PriceList.objects.filter(is_default=True).update(kind="percentage", percentage=100)
    text = "name;sku;price_with_tax;taxes\nGaseosa;GAS-400;11900;IVA 19%\n"
    with pytest.raises(CommandError):
        call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    errors = capsys.readouterr().err
    assert "line 2: " in errors and "price_with_tax" in errors, errors
    with tenant_context(company_a):
        assert not Variant.objects.exists()


def test_a_doubled_quote_inside_a_quoted_cell_is_one_quote(tmp_path, company_a):
    # Excel writes the inch mark of Tubo PVC 1/2" as "Tubo PVC 1/2""" (RFC 4180).
    text = (
        "name,sku,price\n"
        '"Tubo PVC 1/2"" presión",TUB-1,1000\n'
        '"Codo 1/2""",COD-1,500\n'
        '"Tornillo, 3/8",TOR-1,200\n'
    )
    call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    with tenant_context(company_a):
        names = set(Product.objects.values_list("name", flat=True))
    assert names == {'Tubo PVC 1/2" presión', 'Codo 1/2"', "Tornillo, 3/8"}


def test_a_too_long_category_name_is_a_row_error_not_a_crash(tmp_path, company_a, capsys):
    long_name = "Ferretería " * 12  # 132 characters; the column holds 120
    text = f"name,sku,price,category\nBien,OK-1,1000,Granos\nMartillo,MAR-1,1000,{long_name}\n"
    with pytest.raises(CommandError, match="1 of 2 rows refused"):
        call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    errors = capsys.readouterr().err
    assert "line 3: " in errors and "category" in errors
    with tenant_context(company_a):
        assert not Category.objects.exists()


def test_a_shelf_price_beyond_the_columns_digits_is_a_row_error(tmp_path, company_a, capsys):
    text = "name,sku,price_with_tax\nBien,OK-1,1000\nRaro,RAR-1,1" + "0" * 30 + "\n"
    with pytest.raises(CommandError, match="1 of 2 rows refused"):
        call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    assert "line 3: " in capsys.readouterr().err


def test_the_line_reported_is_the_rows_first(tmp_path, company_a, capsys):
    """A description on two lines (a quoted cell): the error names the bad row's line."""
    text = (
        "name,sku,price,description\n"
        'Bien,OK-1,1000,"Primera línea\nsegunda línea"\n'  # lines 2-3, spreadsheet row 2
        "Sin precio,NP-1,,\n"  # line 4, spreadsheet row 3
        'Malo,MAL-1,-5,"Uno\ndos"\n'  # lines 5-6, spreadsheet row 4
    )
    with pytest.raises(CommandError):
        call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    errors = capsys.readouterr().err
    # The row of "Malo" starts on line 5: reporting line 6 sends the operator to the wrong place.
    assert "line 5: " in errors, errors


def test_spanish_excel_booleans_are_read(tmp_path, company_a):
    """Excel in Spanish writes TRUE/FALSE as VERDADERO/FALSO in a CSV."""
    text = "name;sku;price;track_inventory\nServicio;SER-1;1000;FALSO\n"
    call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    with tenant_context(company_a):
        assert Product.objects.get(name="Servicio").track_inventory is False


def test_stock_at_an_inactive_point_of_sale_names_the_column(tmp_path, company_a, capsys):
    from pos.services import pdv_create, pdv_update

    with tenant_context(company_a):
        pdv = pdv_create(name="Bodega", code="BOD")
        pdv_update(pdv=pdv, data={"is_active": False})
    text = "name,sku,price,stock:BOD\nGaseosa,GAS-1,1000,5\n"
    with pytest.raises(CommandError):
        call_command("import_products", _write(tmp_path, text), company=str(company_a.pk))
    assert "line 2: " in (err := capsys.readouterr().err) and "Bodega" in err


def test_a_dry_run_leaves_no_category_brand_or_product(tmp_path, company_a):
    text = (
        "name,sku,price,category,brand,stock:PRINCIPAL\n"
        "Gaseosa,GAS-1,1000,Bebidas > Gaseosas,Postobón,5\n"
    )
    call_command("import_products", _write(tmp_path, text), company=str(company_a.pk), dry_run=True)
    with tenant_context(company_a):
        assert not Product.objects.exists() and not Category.objects.exists()
        assert not Variant.objects.exists() and not Brand.objects.exists()
