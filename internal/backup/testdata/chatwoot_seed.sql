-- A small database shaped like Chatwoot's: the tables a rollback must get
-- back exactly, with the column types that make row text tricky (jsonb,
-- arrays, timestamps with zones, floats, NULLs, newlines, non-ASCII).
CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY);
CREATE TABLE ar_internal_metadata (
    key character varying NOT NULL PRIMARY KEY,
    value character varying,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);
CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    name character varying NOT NULL,
    locale integer DEFAULT 0,
    domain character varying(100),
    settings jsonb DEFAULT '{}'::jsonb,
    feature_flags bigint DEFAULT 0 NOT NULL,
    created_at timestamp(6) without time zone NOT NULL
);
CREATE TABLE users (
    id serial PRIMARY KEY,
    email character varying NOT NULL UNIQUE,
    encrypted_password character varying DEFAULT '' NOT NULL,
    otp_secret text,
    custom_attributes jsonb DEFAULT '{}'::jsonb,
    last_sign_in_at timestamp with time zone,
    created_at timestamp(6) without time zone NOT NULL
);
CREATE TABLE conversations (
    id serial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id),
    status integer DEFAULT 0 NOT NULL,
    uuid uuid NOT NULL,
    additional_attributes jsonb DEFAULT '{}'::jsonb,
    cached_label_list text[],
    priority numeric(6,2),
    created_at timestamp with time zone NOT NULL
);
CREATE TABLE messages (
    id bigserial PRIMARY KEY,
    content text,
    account_id bigint NOT NULL REFERENCES accounts(id),
    conversation_id integer NOT NULL REFERENCES conversations(id),
    message_type integer NOT NULL,
    private boolean DEFAULT false NOT NULL,
    content_attributes json DEFAULT '{}'::json,
    sentiment double precision,
    created_at timestamp with time zone NOT NULL
);
CREATE INDEX index_messages_on_conversation_id ON messages (conversation_id);
CREATE SCHEMA reporting;
CREATE TABLE reporting."Daily Events" (day date NOT NULL, name text NOT NULL, value bigint);

INSERT INTO schema_migrations SELECT to_char(timestamp '2023-01-01' + n * interval '9 days', 'YYYYMMDDHH24MISS') FROM generate_series(0, 119) n;
INSERT INTO ar_internal_metadata VALUES ('environment', 'production', '2023-01-01 10:00:00', '2023-01-01 10:00:00');
INSERT INTO accounts (name, locale, domain, settings, created_at) VALUES
    ('Acme Support', 0, 'support.acme.test', '{"auto_resolve_duration": 7, "audio_transcriptions": true}', '2024-03-01 09:00:00'),
    ('Büro Müller GmbH', 3, NULL, '{}', '2024-05-17 14:30:00.123456'),
    ('ООО «Ромашка»', 12, 'help.example.ru', '{"tags": ["vip", "b2b"]}', '2025-01-02 00:00:00');
INSERT INTO users (email, encrypted_password, otp_secret, custom_attributes, last_sign_in_at, created_at)
SELECT 'agent' || n || '@acme.test', '$2a$11$' || md5(n::text), CASE WHEN n % 3 = 0 THEN 'enc:' || md5('otp' || n) END,
       jsonb_build_object('team', 'tier' || (n % 2)), timestamptz '2025-06-01 08:00:00+02' + n * interval '1 hour 7 minutes',
       timestamp '2024-01-01' + n * interval '1 day'
FROM generate_series(1, 25) n;
INSERT INTO conversations (account_id, status, uuid, additional_attributes, cached_label_list, priority, created_at)
SELECT 1 + n % 3, n % 4, md5('conv' || n)::uuid, jsonb_build_object('browser', 'Firefox', 'n', n),
       CASE WHEN n % 5 = 0 THEN ARRAY['billing', 'urgent'] END, (n % 7) * 1.25, timestamptz '2025-01-01 00:00:00+00' + n * interval '3 hours'
FROM generate_series(1, 60) n;
INSERT INTO messages (content, account_id, conversation_id, message_type, private, content_attributes, sentiment, created_at)
SELECT CASE WHEN n % 11 = 0 THEN NULL ELSE 'Hello ' || n || E',\nthanks for writing — "quoted", tab\there, 🎉' END,
       1 + n % 3, 1 + n % 60, n % 3, n % 13 = 0, json_build_object('in_reply_to', n - 1),
       CASE WHEN n % 4 = 0 THEN n / 7.0 END, timestamptz '2025-01-01 00:00:00+00' + n * interval '17 minutes'
FROM generate_series(1, 500) n;
INSERT INTO reporting."Daily Events" SELECT date '2025-01-01' + n, 'conversations_created', n * 3 FROM generate_series(0, 29) n;
