-- One POS sale in raw SQL, for pgbench (-M prepared): the reads, locks and writes the API runs
-- for POST pos/sales/ (3 lines + cash), in the same order, in one transaction, as the same
-- application role under row-level security. bench/run.py fills bench_pos_target: one row per
-- pgbench client, each a different company, exactly as the API clients are spread.
BEGIN;
SELECT tenant_id, user_id, pdv_id, range_id, shift_id, consumer_id, price_list_id,
       v1, v2, v3, s1, s2, s3
  FROM bench_pos_target WHERE idx = :client_id \gset
SELECT set_config('app.tenant_id', :tenant_id, true);
-- authentication: the user and the membership
SELECT id, password, is_active FROM accounts_user WHERE id = :user_id;
SELECT role, is_active FROM accounts_membership WHERE user_id = :user_id AND company_id = :tenant_id;
-- idempotency key reserved
INSERT INTO core_idempotencyrecord (id, tenant_id, created_at, updated_at, key, scope, fingerprint)
  VALUES (gen_random_uuid(), :tenant_id, now(), now(), gen_random_uuid()::text,
          'POST /api/v1/pos/sales/', md5(random()::text)) RETURNING id AS idem_id \gset
-- input validation and pricing: variants, shift, customer, price list, taxes
SELECT v.* FROM products_variant v WHERE v.tenant_id = :tenant_id AND v.id IN (:v1, :v2, :v3);
SELECT * FROM pos_shift WHERE tenant_id = :tenant_id AND user_id = :user_id AND status = 'open';
SELECT * FROM contacts_contact WHERE tenant_id = :tenant_id AND id = :consumer_id;
SELECT * FROM products_pricelist WHERE tenant_id = :tenant_id AND is_default AND is_active;
SELECT v.id, v.price, v.cost, p.name, t.rate, t.kind
  FROM products_variant v JOIN products_product p ON p.id = v.product_id
  JOIN products_producttax pt ON pt.product_id = p.id JOIN products_tax t ON t.id = pt.tax_id
 WHERE v.tenant_id = :tenant_id AND v.id IN (:v1, :v2, :v3);
-- the draft invoice and its lines
INSERT INTO invoices_invoice (id, tenant_id, created_at, updated_at, kind, status, pdv_id,
    customer_id, price_list_id, shift_id, prefix, full_number, issue_date, notes, subtotal,
    discount_total, tax_total, total, tax_breakdown, amount_paid, credited_total, balance,
    void_reason, created_by_id)
  VALUES (gen_random_uuid(), :tenant_id, now(), now(), 'pos', 'draft', :pdv_id, :consumer_id,
    :price_list_id, :shift_id, '', '', current_date, '', 100000, 0, 19000, 119000,
    '[{"name": "IVA 19%", "kind": "iva", "rate": "19.00", "base": "100000.00", "amount": "19000.00"}]',
    0, 0, 119000, '', :user_id) RETURNING id AS invoice_id \gset
INSERT INTO invoices_invoiceline (id, tenant_id, created_at, updated_at, invoice_id, position,
    variant_id, description, quantity, unit_price, discount_pct, subtotal, discount, tax_total,
    total, taxes)
  SELECT gen_random_uuid(), :tenant_id, now(), now(), :invoice_id, n, v, 'Producto', 1,
         33333.33, 0, 33333.33, 0, 6333.33, 39666.66,
         '[{"name": "IVA 19%", "kind": "iva", "rate": "19.00", "base": "33333.33", "amount": "6333.33"}]'
    FROM unnest(ARRAY[:v1, :v2, :v3]::uuid[]) WITH ORDINALITY AS l(v, n);
-- issue: lock the invoice, take the next number, move stock
SELECT id, status FROM invoices_invoice WHERE tenant_id = :tenant_id AND id = :invoice_id FOR UPDATE;
SELECT next_number FROM invoices_numberingrange WHERE tenant_id = :tenant_id AND id = :range_id FOR UPDATE \gset
UPDATE invoices_numberingrange SET next_number = next_number + 1, updated_at = now() WHERE id = :range_id;
SELECT id, quantity, average_cost FROM inventory_stock
 WHERE tenant_id = :tenant_id AND id IN (:s1, :s2, :s3) ORDER BY variant_id, pdv_id FOR UPDATE;
UPDATE inventory_stock SET quantity = quantity - 1, updated_at = now()
 WHERE tenant_id = :tenant_id AND id IN (:s1, :s2, :s3);
INSERT INTO inventory_stockmovement (id, tenant_id, created_at, updated_at, variant_id, pdv_id,
    kind, quantity, unit_cost, balance_after, average_cost_after, reference_type, reference_id,
    reference_number, note, user_id)
  SELECT gen_random_uuid(), tenant_id, now(), now(), variant_id, pdv_id, 'sale', -1,
         average_cost, quantity, average_cost, 'invoice', :invoice_id, 'POS', '', :user_id
    FROM inventory_stock WHERE tenant_id = :tenant_id AND id IN (:s1, :s2, :s3);
UPDATE invoices_invoiceline SET unit_cost = 20000 WHERE tenant_id = :tenant_id AND invoice_id = :invoice_id;
UPDATE invoices_invoice SET status = 'open', number = :next_number,
    full_number = 'POS' || :next_number, numbering_range_id = :range_id, prefix = 'POS',
    issued_at = now(), updated_at = now()
 WHERE id = :invoice_id;
-- the cash tender
INSERT INTO invoices_payment (id, tenant_id, created_at, updated_at, invoice_id, shift_id, date,
    method, amount, retefuente, reteiva, reteica, applied, tendered, change, reference, status,
    void_reason, created_by_id)
  VALUES (gen_random_uuid(), :tenant_id, now(), now(), :invoice_id, :shift_id, current_date,
    'cash', 119000, 0, 0, 0, 119000, 200000, 81000, '', 'active', '', :user_id);
SELECT sum(applied) FROM invoices_payment
 WHERE tenant_id = :tenant_id AND invoice_id = :invoice_id AND status = 'active';
UPDATE invoices_invoice SET status = 'paid', amount_paid = total, balance = 0, updated_at = now()
 WHERE id = :invoice_id;
-- the answer, stored for the idempotency key
SELECT i.*, l.* FROM invoices_invoice i JOIN invoices_invoiceline l ON l.invoice_id = i.id
 WHERE i.tenant_id = :tenant_id AND i.id = :invoice_id;
UPDATE core_idempotencyrecord SET status_code = 201, response_body = '{"status": "paid"}',
    updated_at = now() WHERE id = :idem_id;
COMMIT;
