-- Broker mode: the user handle Entra gave a user (`publicKey.user.id` in Graph's options,
-- opaque bytes). A key answers a test sign-in with the handle it was registered with, so
-- it is kept to check that answer. NULL in the demo directory, whose handles are derived
-- from the object id.
ALTER TABLE users ADD COLUMN user_handle BLOB;
