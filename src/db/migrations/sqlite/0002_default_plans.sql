-- The plans every installation starts with. Ranks leave gaps so a plan can be
-- slotted between two later; NULL limits mean unlimited. Admins edit them
-- through the API; the ids are fixed so other migrations can point at them.
INSERT INTO plans (id, code, name, rank, max_channels, max_projects_per_month, created_at, updated_at) VALUES
    ('01936f4e-0000-7000-8000-000000000001', 'free',    'Free',    0,  1,  20,   (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'), (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')),
    ('01936f4e-0000-7000-8000-000000000002', 'creator', 'Creator', 10, 5,  200,  (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'), (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')),
    ('01936f4e-0000-7000-8000-000000000003', 'pro',     'Pro',     20, 50, 2000, (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'), (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'));
