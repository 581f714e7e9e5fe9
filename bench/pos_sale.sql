-- One POS sale in raw SQL, for pgbench (-M prepared): the statements the API runs for
-- POST pos/sales/ (3 lines + cash; the API's 8, here 9: the user's row and the tenant
-- setting go apart), in the same order, in one transaction, as the same
-- application role under row-level security (the membership comes from Redis in the API, so it
-- has no statement here). bench/run.py fills bench_pos_target: one row per pgbench client, each
-- a different company, exactly as the API clients are spread (read before the transaction:
-- the API knows these from the request and its token).
SELECT tenant_id, user_id, pdv_id, range_id, shift_id, consumer_id, price_list_id,
       v1, v2, v3, p1, p2, p3, s1, s2, s3
  FROM bench_pos_target WHERE idx = :client_id \gset
BEGIN;
-- authentication: the user; then the tenant with the write request's plan mode
SELECT id, password, last_login, is_superuser, email, first_name, last_name, phone, is_active,
       is_staff, email_verified_at, date_joined
  FROM accounts_user WHERE id = :user_id ORDER BY id LIMIT 1;
SELECT set_config('app.tenant_id', :tenant_id, true), set_config('plan_cache_mode', 'auto', true);

-- idempotency key reserved (and the new invoice's id)
INSERT INTO core_idempotencyrecord
    (id, tenant_id, user_id, created_at, updated_at, key, scope, fingerprint)
  VALUES (gen_random_uuid(), :tenant_id, :user_id, now(), now(), gen_random_uuid()::text,
          'POST pos-sale-list', md5(random()::text))

  ON CONFLICT DO NOTHING RETURNING id AS idem_id, gen_random_uuid() AS invoice_id \gset
-- input validation and pricing: variants with product and unit, their taxes
SELECT v.*, p.*, u.*, pt.*, t.* FROM products_variant v
  JOIN products_product p ON p.id = v.product_id
  JOIN products_unit u ON u.id = p.unit_id
  LEFT JOIN products_producttax pt ON pt.product_id = p.id AND pt.tenant_id = :tenant_id
  LEFT JOIN products_tax t ON t.id = pt.tax_id
 WHERE v.tenant_id = :tenant_id AND v.id = ANY(ARRAY[:v1, :v2, :v3]::uuid[])
 ORDER BY v.id, t.kind, t.rate DESC, t.name;
-- the cashier's open shift (locked: a close waits) with its register and point of sale, the
-- final consumer and the default price list, in one statement
-- (and, as the API does there, generic plans at once for the sale's remaining statements)
SELECT s.*, r.*, d.*, c.*, l.* FROM pos_shift s
  JOIN pos_cashregister r ON r.id = s.register_id
  JOIN pos_pdv d ON d.id = r.pdv_id
  CROSS JOIN (SELECT set_config('plan_cache_mode', 'force_generic_plan', true)) g
  LEFT JOIN LATERAL (SELECT * FROM contacts_contact
                      WHERE tenant_id = :tenant_id AND is_final_consumer LIMIT 1) c ON true
  LEFT JOIN LATERAL (SELECT * FROM products_pricelist
                      WHERE tenant_id = :tenant_id AND is_default ORDER BY name LIMIT 1) l ON true
 WHERE s.tenant_id = :tenant_id AND s.user_id = :user_id AND s.status = 'open'
 ORDER BY s.opened_at DESC LIMIT 1 FOR UPDATE OF s;
-- the number: one guarded update of the active range
UPDATE invoices_numberingrange SET next_number = next_number + 1, updated_at = now()
 WHERE tenant_id = :tenant_id AND pdv_id = :pdv_id AND document_type = 'pos' AND is_active
   AND next_number <= range_to AND valid_from <= current_date AND valid_to >= current_date
 RETURNING next_number - 1 AS next_number \gset
-- stock: the rows of the sale's (variant, pdv) keys, each locked by index in key order, when
-- all of them exist (the API creates a missing one first, before it locks any; here all do)
SELECT s.* FROM unnest(ARRAY[:v1, :v2, :v3]::uuid[], ARRAY[:pdv_id, :pdv_id, :pdv_id]::uuid[])
                WITH ORDINALITY AS k(variant_id, pdv_id, n)
  JOIN LATERAL (SELECT * FROM inventory_stock l
                 WHERE l.tenant_id = :tenant_id AND l.variant_id = k.variant_id
                   AND l.pdv_id = k.pdv_id FOR UPDATE) s ON true
 WHERE (SELECT bool_and(EXISTS (SELECT 1 FROM inventory_stock c
                                 WHERE c.tenant_id = :tenant_id AND c.variant_id = e.variant_id
                                   AND c.pdv_id = e.pdv_id))
          FROM unnest(ARRAY[:v1, :v2, :v3]::uuid[], ARRAY[:pdv_id, :pdv_id, :pdv_id]::uuid[])
               AS e(variant_id, pdv_id))
 ORDER BY k.n;
-- the stock's new values, its ledger, the invoice (issued and paid), its lines and the cash
-- tender, in one statement
WITH stock AS (
UPDATE inventory_stock SET quantity = quantity - 1, updated_at = now()
 WHERE tenant_id = :tenant_id AND id IN (:s1, :s2, :s3)
), ledger AS (
-- (the API inserts computed values; reading them from the three locked rows is close)
INSERT INTO inventory_stockmovement (id, tenant_id, created_at, updated_at, variant_id, pdv_id,
    kind, quantity, unit_cost, balance_after, average_cost_after, reference_type, reference_id,
    reference_number, note, user_id)
  SELECT gen_random_uuid(), tenant_id, now(), now(), variant_id, pdv_id, 'sale', -1,
         average_cost, quantity - 1, average_cost, 'invoice', :invoice_id, 'POS' || :next_number,
         '', :user_id
    FROM inventory_stock WHERE tenant_id = :tenant_id AND id IN (:s1, :s2, :s3)
), invoice AS (
INSERT INTO invoices_invoice (id, tenant_id, created_at, updated_at, kind, status, pdv_id,
    customer_id, price_list_id, shift_id, prefix, number, full_number, numbering_range_id,
    issue_date, issued_at, notes, subtotal, discount_total, tax_total, total, tax_breakdown,
    amount_paid, credited_total, balance, void_reason, created_by_id)
  VALUES (:invoice_id, :tenant_id, now(), now(), 'pos', 'paid', :pdv_id, :consumer_id,
    :price_list_id, :shift_id, 'POS', :next_number, 'POS' || :next_number, :range_id,
    current_date, now(), '', 100000, 0, 19000, 119000,
    '[{"name": "IVA 19%", "kind": "iva", "rate": "19.00", "base": "100000.00", "amount": "19000.00"}]',
    119000, 0, 0, '', :user_id)
), lines AS (
INSERT INTO invoices_invoiceline (id, tenant_id, created_at, updated_at, invoice_id, position,
    variant_id, description, quantity, unit_price, discount_pct, subtotal, discount, tax_total,
    total, taxes, unit_cost)
  SELECT gen_random_uuid(), :tenant_id, now(), now(), :invoice_id, n, v, 'Producto', 1,
         33333.33, 0, 33333.33, 0, 6333.33, 39666.66,
         '[{"name": "IVA 19%", "kind": "iva", "rate": "19.00", "base": "33333.33", "amount": "6333.33"}]',
         20000
    FROM unnest(ARRAY[:v1, :v2, :v3]::uuid[]) WITH ORDINALITY AS l(v, n)
)
INSERT INTO invoices_payment (id, tenant_id, created_at, updated_at, invoice_id, shift_id, date,
    method, amount, retefuente, reteiva, reteica, applied, tendered, change, reference, status,
    void_reason, created_by_id)
  VALUES (gen_random_uuid(), :tenant_id, now(), now(), :invoice_id, :shift_id, current_date,
    'cash', 119000, 0, 0, 0, 119000, 200000, 81000, '', 'active', '', :user_id);
-- the answer, stored for the idempotency key
-- (the API stores the whole answer, about 3.2 kB of JSON for three lines: as big here)
UPDATE core_idempotencyrecord SET status_code = 201,
    response_body = ('{"invoice": {"status": "paid", "notes": "' || repeat('x', 3150) || '"}}')::jsonb,
    updated_at = now() WHERE id = :idem_id;

COMMIT;
