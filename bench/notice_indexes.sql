-- Benchmark: what the notice ledger's indexes cost a sweep's INSERT … SELECT … ON CONFLICT DO
-- NOTHING on PostgreSQL (migration 0011). Run it on an empty scratch database, e.g.:
--
--     psql -h 127.0.0.1 -U postgres test -f bench/notice_indexes.sql
--
-- Three copies of the ledger (the columns of `notice`, its primary key and its unique key), each
-- with other delivery indexes:
--   a  before 0011: (recipient, delivery_id) and (delivery_id), every row in both;
--   b  0011: (recipient) WHERE delivery_id IS NULL and (delivery_id) WHERE delivery_id IS NOT NULL;
--   c  the same with (recipient, id): distinct keys, which PostgreSQL cannot deduplicate.
-- 1,700,000 notices (a catch-up's count in bench_sweep.py: 1,000 units, task ids in order) are
-- inserted into each, in the order a, b, c, then again after a TRUNCATE in the order c, b, a
-- (a checkpoint before each). Compare the "Time:" after each "== a/b/c" line; the sizes of the
-- indexes are printed at the end. It works in a schema of its own, dropped at the end.
\timing off
\set ON_ERROR_STOP on
DROP SCHEMA IF EXISTS kttt_bench_notice CASCADE;
CREATE SCHEMA kttt_bench_notice;
SET search_path = kttt_bench_notice;
CREATE TABLE src AS
SELECT 'kh-1/tinh-' || (i % 1000) || '/xa-' || lpad(i::text, 8, '0') AS task_id,
       'mac-dinh'::varchar AS policy_code,
       (ARRAY['nhac-truoc-7', 'den-han', 'bao-cao-30'])[1 + i % 3]::varchar AS step_code,
       'unit-' || (i % 1052) AS recipient, false AS is_cc, 'overdue'::varchar AS severity,
       DATE '2025-06-01' AS fire_on, DATE '2025-06-01' AS due_on, 1 AS sweep_id,
       now() AS created_at, 'lead'::varchar AS role
FROM generate_series(1, 1700000) AS i;
CREATE TABLE a (
    id serial PRIMARY KEY, task_id varchar(255), policy_code varchar(160), step_code varchar(64),
    recipient varchar(64), is_cc boolean, severity varchar(16), fire_on date, due_on date,
    sweep_id integer, created_at timestamptz, delivery_id varchar(64), completion_id integer,
    role varchar(64), UNIQUE (task_id, step_code, recipient)
);
CREATE TABLE b (LIKE a INCLUDING DEFAULTS);
ALTER TABLE b ADD PRIMARY KEY (id), ADD UNIQUE (task_id, step_code, recipient);
CREATE TABLE c (LIKE a INCLUDING DEFAULTS);
ALTER TABLE c ADD PRIMARY KEY (id), ADD UNIQUE (task_id, step_code, recipient);
CREATE INDEX a_undelivered ON a (recipient, delivery_id);
CREATE INDEX a_delivery ON a (delivery_id);
CREATE INDEX b_undelivered ON b (recipient) WHERE delivery_id IS NULL;
CREATE INDEX b_delivery ON b (delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX c_undelivered ON c (recipient, id) WHERE delivery_id IS NULL;
CREATE INDEX c_delivery ON c (delivery_id) WHERE delivery_id IS NOT NULL;
PREPARE ins_a AS INSERT INTO a (task_id, policy_code, step_code, recipient, is_cc, severity,
    fire_on, due_on, sweep_id, created_at, role)
    SELECT * FROM src ORDER BY task_id ON CONFLICT (task_id, step_code, recipient) DO NOTHING;
PREPARE ins_b AS INSERT INTO b (task_id, policy_code, step_code, recipient, is_cc, severity,
    fire_on, due_on, sweep_id, created_at, role)
    SELECT * FROM src ORDER BY task_id ON CONFLICT (task_id, step_code, recipient) DO NOTHING;
PREPARE ins_c AS INSERT INTO c (task_id, policy_code, step_code, recipient, is_cc, severity,
    fire_on, due_on, sweep_id, created_at, role)
    SELECT * FROM src ORDER BY task_id ON CONFLICT (task_id, step_code, recipient) DO NOTHING;
CHECKPOINT;
\echo == a
\timing on
EXECUTE ins_a;
\timing off
CHECKPOINT;
\echo == b
\timing on
EXECUTE ins_b;
\timing off
CHECKPOINT;
\echo == c
\timing on
EXECUTE ins_c;
\timing off
SELECT relname AS index, pg_size_pretty(pg_relation_size(oid)) AS size
FROM pg_class WHERE relnamespace = 'kttt_bench_notice'::regnamespace AND relkind = 'i'
ORDER BY relname;
TRUNCATE a, b, c;
CHECKPOINT;
\echo == c
\timing on
EXECUTE ins_c;
\timing off
CHECKPOINT;
\echo == b
\timing on
EXECUTE ins_b;
\timing off
CHECKPOINT;
\echo == a
\timing on
EXECUTE ins_a;
\timing off
DROP SCHEMA kttt_bench_notice CASCADE;
