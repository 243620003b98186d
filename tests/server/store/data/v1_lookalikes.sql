-- A database made by Multichat 0.1 (schema version 1) in use for a while, whose
-- names the rules of version 2 would refuse or find alike. Never edit: later
-- versions must open it with every row, id and link intact.
--
-- Accounts 1-7 (4 was deleted): alice (2),
-- Alice (3) and fullwidth alice (6) share a key, as do admin (1) and admin with a
-- Cyrillic a (5). Rooms 1-5 (3 deleted): Lobby (1), Lobby + U+200B (2) and lobby
-- (5) share a key; room 4's title holds ESC [2J and a newline. Five tokens, eight
-- messages, one by an account that was deleted (account_id NULL).
BEGIN TRANSACTION;
CREATE TABLE "account" ("id" INTEGER NOT NULL PRIMARY KEY, "username" VARCHAR(32) NOT NULL, "password_hash" TEXT NOT NULL, "is_staff" INTEGER NOT NULL, "is_superuser" INTEGER NOT NULL, "created_ms" INTEGER NOT NULL);
INSERT INTO "account" VALUES(1,'admin','$argon2id$v=19$m=8,t=1,p=1$C+PNF52QhTc$sk/hug',0,1,1795522927801);
INSERT INTO "account" VALUES(2,'alice','$argon2id$v=19$m=8,t=1,p=1$C+PNF52QhTc$sk/hug',0,0,1795522927802);
INSERT INTO "account" VALUES(3,'Alice','$argon2id$v=19$m=8,t=1,p=1$C+PNF52QhTc$sk/hug',1,0,1795522927803);
INSERT INTO "account" VALUES(5,char(1072)||'dmin','$argon2id$v=19$m=8,t=1,p=1$C+PNF52QhTc$sk/hug',0,0,1795522927805);
INSERT INTO "account" VALUES(6,char(65345,65356,65353,65347,65349),'$argon2id$v=19$m=8,t=1,p=1$C+PNF52QhTc$sk/hug',0,0,1795522927806);
INSERT INTO "account" VALUES(7,'bob','$argon2id$v=19$m=8,t=1,p=1$C+PNF52QhTc$sk/hug',0,0,1795522927807);
CREATE TABLE "message" ("id" INTEGER NOT NULL PRIMARY KEY, "room_id" INTEGER NOT NULL, "seq" INTEGER NOT NULL, "account_id" INTEGER, "username" VARCHAR(32) NOT NULL, "msg_type" INTEGER NOT NULL, "text" TEXT NOT NULL, "client_id" VARCHAR(128), "ts_ms" INTEGER NOT NULL, FOREIGN KEY ("room_id") REFERENCES "room" ("id") ON DELETE CASCADE, FOREIGN KEY ("account_id") REFERENCES "account" ("id") ON DELETE SET NULL);
INSERT INTO "message" VALUES(1,1,1,1,'admin',0,'welcome','c1',1700000000001);
INSERT INTO "message" VALUES(2,1,2,2,'alice',0,'hi','c2',1700000000002);
INSERT INTO "message" VALUES(3,1,3,3,'Alice',0,'hi, I am the other one','c3',1700000000003);
INSERT INTO "message" VALUES(4,1,4,NULL,'ghost',0,'from a deleted account',NULL,1700000000004);
INSERT INTO "message" VALUES(5,2,1,5,char(1072)||'dmin',1,'obey',NULL,1700000000005);
INSERT INTO "message" VALUES(6,4,1,7,'bob',0,'odd room',NULL,1700000000006);
INSERT INTO "message" VALUES(7,4,2,6,char(65345,65356,65353,65347,65349),0,'wide',NULL,1700000000007);
INSERT INTO "message" VALUES(8,5,1,2,'alice',0,'lower lobby',NULL,1700000000008);
CREATE TABLE "meta" ("key" VARCHAR(64) NOT NULL PRIMARY KEY, "value" TEXT NOT NULL);
INSERT INTO "meta" VALUES('changes','41');
INSERT INTO "meta" VALUES('schema_version','1');
CREATE TABLE "room" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "title" VARCHAR(100) NOT NULL, "staff_only" INTEGER NOT NULL, "last_seq" INTEGER NOT NULL, "created_ms" INTEGER NOT NULL);
INSERT INTO "room" VALUES(1,'Lobby',0,4,1795522927850);
INSERT INTO "room" VALUES(2,'Lobby'||char(8203),1,1,1795522927851);
INSERT INTO "room" VALUES(4,'Evil'||char(27)||'[2J'||char(10)||'   9  Forged  yes',0,2,1795522927853);
INSERT INTO "room" VALUES(5,'lobby',0,1,1795522927854);
CREATE TABLE "token" ("id" INTEGER NOT NULL PRIMARY KEY, "account_id" INTEGER NOT NULL, "token_hash" VARCHAR(64) NOT NULL, "created_ms" INTEGER NOT NULL, "expires_ms" INTEGER NOT NULL, FOREIGN KEY ("account_id") REFERENCES "account" ("id") ON DELETE CASCADE);
INSERT INTO "token" VALUES(1,2,'2e15b40525c460e282cd07f31837a2dbf900fc53ddd43a8f4e84c0d4bb6c50c2',1795522927900,4102444800000);
INSERT INTO "token" VALUES(2,3,'0fecc2174dd22d8eb11784ace31586407eae086498278a4ae97352c45c0879db',1795522927901,4102444800000);
INSERT INTO "token" VALUES(4,5,'f3b0aa82c1b8da943b6d45545119655d30d6903909cf207788500e274fe30d0e',1795522927903,4102444800000);
INSERT INTO "token" VALUES(5,7,'06f37dd1acc2c0cea50aebd2119d85100d428ef0a5fd7279b7fc326452b84ad7',1795522927904,4102444800000);
INSERT INTO "token" VALUES(6,7,'3e52b7de68704358d5652e3f5fc928a390d3ddca01d06e9985f33f364dde249f',1795522927905,4102444800000);
CREATE UNIQUE INDEX "account_username" ON "account" ("username");
CREATE UNIQUE INDEX "room_title" ON "room" ("title");
CREATE INDEX "message_account_id" ON "message" ("account_id");
CREATE UNIQUE INDEX "message_room_id_seq" ON "message" ("room_id", "seq");
CREATE UNIQUE INDEX "message_account_id_client_id" ON "message" ("account_id", "client_id");
CREATE INDEX "token_account_id" ON "token" ("account_id");
CREATE UNIQUE INDEX "token_token_hash" ON "token" ("token_hash");
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('room',5);
COMMIT;
