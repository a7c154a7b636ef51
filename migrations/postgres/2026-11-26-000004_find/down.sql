DROP FUNCTION reset_find(TEXT, TEXT[], TEXT[]);
