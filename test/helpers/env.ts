// Tests never read a developer's own config or data directory.
delete process.env.SWITCHBOARD_CONFIG;
delete process.env.SWITCHBOARD_DATA_DIR;
delete process.env.DATABASE_URL;
