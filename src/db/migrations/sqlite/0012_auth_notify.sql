-- The PostgreSQL step of this number adds the triggers that invalidate the
-- auth cache (issue 18, decision 2). SQLite has no cache to invalidate: a
-- lookup there is in-process and sees a revocation at once. This step keeps
-- the two engines' version numbers alike.
SELECT 1;
