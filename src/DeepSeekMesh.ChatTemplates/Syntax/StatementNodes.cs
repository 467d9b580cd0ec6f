namespace DeepSeekMesh.ChatTemplates.Syntax;

/// <summary>Base of all statement (template body) nodes. <see cref="Line"/> is 1-based.</summary>
internal abstract record Stmt(int Line);

internal sealed record TextStmt(string Text, int Line) : Stmt(Line);

internal sealed record OutputStmt(Expr Expr, int Line) : Stmt(Line);

internal sealed record IfStmt(IReadOnlyList<(Expr Condition, IReadOnlyList<Stmt> Body)> Branches, IReadOnlyList<Stmt>? Else, int Line) : Stmt(Line);

/// <summary>Assignment targets: a plain name, a tuple of names, or <c>ns.attr</c>.</summary>
internal abstract record Target(int Line);

internal sealed record NameTarget(string Name, int Line) : Target(Line);

internal sealed record TupleTarget(IReadOnlyList<Target> Items, int Line) : Target(Line);

internal sealed record AttrTarget(Expr Object, string Attribute, int Line) : Target(Line);

internal sealed record ForStmt(Target Target, Expr Iterable, Expr? Filter, IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt>? Else, bool Recursive, int Line) : Stmt(Line);

internal sealed record SetStmt(Target Target, Expr Value, int Line) : Stmt(Line);

/// <summary><c>{% set x %}...{% endset %}</c>, optionally with filters applied to the captured text.</summary>
internal sealed record SetBlockStmt(Target Target, IReadOnlyList<Stmt> Body, IReadOnlyList<(string Name, CallArgs Args, int Line)> Filters, int Line) : Stmt(Line);

internal sealed record MacroParam(string Name, Expr? Default);

internal sealed record MacroStmt(string Name, IReadOnlyList<MacroParam> Params, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record FilterBlockStmt(IReadOnlyList<(string Name, CallArgs Args, int Line)> Filters, IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

internal sealed record BreakStmt(int Line) : Stmt(Line);

internal sealed record ContinueStmt(int Line) : Stmt(Line);

/// <summary><c>{% do expr %}</c>: evaluates and discards.</summary>
internal sealed record DoStmt(Expr Expr, int Line) : Stmt(Line);

/// <summary>HF's <c>{% generation %}</c> block: renders its body unchanged.</summary>
internal sealed record GenerationStmt(IReadOnlyList<Stmt> Body, int Line) : Stmt(Line);

/// <summary>The whole parsed template.</summary>
internal sealed record TemplateNode(IReadOnlyList<Stmt> Body);
