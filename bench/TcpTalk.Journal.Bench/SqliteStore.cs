using SQLitePCL;

/// <summary>A store the bench drives: one call per commit group, on one thread.</summary>
internal interface IStoreDesign : IDisposable
{
    /// <summary>Stores the group durably (per the design's durability) and returns when it is committed.</summary>
    void Commit(TcpTalk.Messages.MessageBatch[] group);
}

/// <summary>The raw SQLite plumbing the two SQLite designs share: prepared statements stepped with SQLitePCL.</summary>
internal abstract class SqliteStore : IStoreDesign
{
    private readonly sqlite3_stmt _begin;
    private readonly sqlite3_stmt _commit;

    protected SqliteStore(string path, bool full, string schema)
    {
        Batteries_V2.Init();
        Check(raw.sqlite3_open(path, out var db), null);
        Db = db;
        Exec($"PRAGMA journal_mode = WAL; PRAGMA synchronous = {(full ? "FULL" : "NORMAL")}; PRAGMA journal_size_limit = {64 << 20};");
        Exec(schema);
        _begin = Prepare("BEGIN IMMEDIATE");
        _commit = Prepare("COMMIT");
    }

    protected sqlite3 Db { get; }

    public void Commit(TcpTalk.Messages.MessageBatch[] group)
    {
        Step(_begin);
        foreach (var batch in group)
        {
            Insert(batch);
        }

        Step(_commit);
    }

    public virtual void Dispose()
    {
        _begin.Dispose();
        _commit.Dispose();
        Db.Dispose();
    }

    protected abstract void Insert(TcpTalk.Messages.MessageBatch batch);

    protected sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(Db, sql, out var statement), Db);
        return statement;
    }

    protected void Step(sqlite3_stmt statement)
    {
        int rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE)
        {
            throw new InvalidOperationException($"SQLite error {rc}: {raw.sqlite3_errmsg(Db).utf8_to_string()}");
        }
    }

    protected void Bind(int rc) => Check(rc, Db);

    private void Exec(string sql) => Check(raw.sqlite3_exec(Db, sql), Db);

    private static void Check(int rc, sqlite3? db)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new InvalidOperationException($"SQLite error {rc}: {(db is null ? "" : raw.sqlite3_errmsg(db).utf8_to_string())}");
        }
    }
}
