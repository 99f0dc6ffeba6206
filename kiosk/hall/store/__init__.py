"""The hall's SQL, one module per subject. Functions take a psycopg connection inside the
caller's transaction and the already-authenticated principal; none of them commits."""
