-- Loaded once into the `sample` database by the MariaDB/MySQL image's
-- /docker-entrypoint-initdb.d on first start (the backend reads this table).
CREATE TABLE IF NOT EXISTS items (
    id   INT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(100) NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO items (name) VALUES
    ('anchor'),
    ('buoy'),
    ('capstan');
