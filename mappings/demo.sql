-- The demo tables that the example mappings in this folder sync.
-- psql -v ON_ERROR_STOP=1 -f mappings/demo.sql <dsn>
-- Re-runnable: drops and recreates the demo tables with their seed rows.

DROP TABLE IF EXISTS public.registrations;
DROP TABLE IF EXISTS public.events;
DROP TABLE IF EXISTS public.customers;
DROP TABLE IF EXISTS public.accounts;

-- accounts <-> companies (accounts.yaml). `code` is the unique business key
-- that travels as the unique company property hubsync_account_code.
CREATE TABLE public.accounts (
  id          bigserial PRIMARY KEY,
  code        text NOT NULL UNIQUE,
  name        text NOT NULL,
  domain      text,
  industry    text,
  employees   integer,
  deleted_at  timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- customers <-> contacts (customers.yaml), matched on email.
CREATE TABLE public.customers (
  id           bigserial PRIMARY KEY,
  email        text NOT NULL UNIQUE,
  first_name   text,
  last_name    text,
  phone        text,
  stage        text NOT NULL DEFAULT 'prospect',
  mrr_cents    bigint,
  tags         text[],
  status       text NOT NULL DEFAULT 'active',
  account_id   bigint REFERENCES public.accounts(id),
  hubspot_id   text,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
-- The pull finds a contact's row by its email as HubSpot compares emails
-- (without the whitespace around it, lower-cased); the UNIQUE index on
-- email does not serve that lookup.
CREATE INDEX customers_email_lower_idx ON public.customers (lower(btrim(email, E' \t\n\r')));

-- events <-> the custom object `event` (events.yaml).
CREATE TABLE public.events (
  id          bigserial PRIMARY KEY,
  code        text NOT NULL UNIQUE,
  name        text NOT NULL,
  starts_on   date,
  location    text,
  capacity    integer
);

-- registrations: which customer attends which event; each row is an
-- event<->contact association in HubSpot (registrations.yaml).
CREATE TABLE public.registrations (
  event_id      bigint NOT NULL REFERENCES public.events(id) ON DELETE CASCADE,
  customer_id   bigint NOT NULL REFERENCES public.customers(id) ON DELETE CASCADE,
  registered_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, customer_id)
);

INSERT INTO public.accounts (code, name, domain, industry, employees) VALUES
  ('ACME',    'Acme Corporation', 'acme.example',    'COMPUTER_SOFTWARE', 120),
  ('GLOBEX',  'Globex',           'globex.example',  'UTILITIES',         2400),
  ('INITECH', 'Initech',          'initech.example', 'COMPUTER_SOFTWARE', 45);

INSERT INTO public.customers (email, first_name, last_name, phone, stage, mrr_cents, tags, status, account_id) VALUES
  ('ada@acme.example',      'Ada',    'Lovelace', '+44 20 7946 0001', 'customer', 129900, '{vip,beta}', 'active', 1),
  ('grace@globex.example',  'Grace',  'Hopper',   NULL,               'qualified', 4950,  '{beta}',     'active', 2),
  ('alan@initech.example',  'Alan',   'Turing',   '+44 161 496 0002', 'prospect', NULL,   NULL,         'active', 3),
  ('test@example.com',      'Test',   'Account',  NULL,               'prospect', 0,      '{}',         'test',   NULL),
  ('edsger@acme.example',   'Edsger', 'Dijkstra', NULL,               'churned',  0,      '{}',         'active', 1);

INSERT INTO public.events (code, name, starts_on, location, capacity) VALUES
  ('EV-2026-BER', 'hubsync user day Berlin', '2026-03-12', 'Berlin',  80),
  ('EV-2026-LIS', 'Sync summit Lisbon',      '2026-06-04', 'Lisbon',  200);

INSERT INTO public.registrations (event_id, customer_id) VALUES
  (1, 1), (1, 2), (2, 1), (2, 3);
