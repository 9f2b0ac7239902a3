using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text;
using Tina.MLNet.Errors;

namespace Tina.Tests;

/// <summary>
/// The folders of the Tina assemblies (one namespace each: Tina.Data, Tina.Generic, Tina.Evaluation, Tina.Runtime.Optim…)
/// follow the pipeline: the compiled code of no folder depends, through any chain, on itself. The graph is read from the
/// built assemblies' metadata and IL, so a dependency counts wherever the compiler put it: base types, interfaces,
/// signatures, fields, attributes, generic constraints, local variables, and every type, method or field a method body
/// uses (lambdas and iterators included: the compiler's nested classes count for the class that wrote them).
/// </summary>
public class LayeringTests
{
    [Fact]
    public void FoldersOfTheCompiledAssembliesDependOnEachOtherWithoutCycles()
    {
        var graph = NamespaceGraph.Read(TinaAssemblies());
        // The reader sees what it must: a signature edge, and an edge only a method body makes.
        Assert.True(graph.Edges.ContainsKey(("Tina.Zoo", "Tina.Evaluation")), graph.Describe());
        var cycles = graph.Cycles();
        Assert.True(cycles.Count == 0, $"Dependency cycles between folders of the Tina assemblies:\n{string.Join("\n", cycles)}");
    }

    [Fact]
    public void TheGraphSeesADependencyThatOnlyAMethodBodyMakes()
    {
        // LayeringBodyOnly uses a Tina.Data type only inside a lambda (a method of a class the compiler nests in it).
        var graph = NamespaceGraph.Read([typeof(LayeringTests).Assembly.Location], include: t => t == typeof(LayeringBodyOnly).FullName, alsoUsed: ["Tina"]);
        Assert.Equal([("Tina.Tests", "Tina.Data")], graph.Edges.Keys);
    }

    [Fact]
    public void EachNamespaceIsDeclaredByOneProductAssembly()
    {
        var assemblies = new[] { typeof(global::Tina.Recipe).Assembly, typeof(global::Tina.MLNet.Errors.TinaException).Assembly,
            typeof(global::Tina.MLNet.Generation.TinaGenerateOptions).Assembly, typeof(global::Tina.Cli.CliContext).Assembly };
        var declared = assemblies.ToDictionary(a => a.GetName().Name!, DeclaredNamespaces);
        Assert.Equal(["Tina", "Tina.Cli", "Tina.MLNet", "Tina.MLNet.Generation"], declared.Keys.Order(StringComparer.Ordinal));
        var shared = declared.SelectMany(d => d.Value.Select(ns => (Namespace: ns, Assembly: d.Key)))
            .GroupBy(x => x.Namespace).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(x => x.Assembly))}").ToList();
        Assert.True(shared.Count == 0, $"Namespaces declared by two product assemblies:\n{string.Join("\n", shared)}");
        // And each assembly's namespaces are its own: Tina.MLNet.* for the inference package, Tina.MLNet.Generation.*
        // for the generation package, Tina.* but no Tina.MLNet* for the core, Tina.Cli.* for the CLI.
        static bool Under(string ns, string root) => ns == root || ns.StartsWith(root + ".", StringComparison.Ordinal);
        Assert.All(declared["Tina.MLNet"], ns => Assert.True(Under(ns, "Tina.MLNet") && !Under(ns, "Tina.MLNet.Generation"), ns));
        Assert.All(declared["Tina.MLNet.Generation"], ns => Assert.True(Under(ns, "Tina.MLNet.Generation"), ns));
        Assert.All(declared["Tina"], ns => Assert.True(Under(ns, "Tina") && !Under(ns, "Tina.MLNet") && !Under(ns, "Tina.Cli"), ns));
        Assert.All(declared["Tina.Cli"], ns => Assert.True(Under(ns, "Tina.Cli"), ns));
    }

    /// <summary>
    /// The namespaces of <paramref name="assembly"/>'s types, less those of compiler-generated types (embedded attributes,
    /// source-generated regexes) and the extension namespaces that follow ML.NET's and ASP.NET Core's convention
    /// (<c>Microsoft.ML</c> catalogs, <c>Microsoft.Extensions.DependencyInjection</c> registrations). Read from the
    /// net10.0 build the tests run against (the net8.0 build adds internal polyfills in <c>System</c> namespaces).
    /// </summary>
    private static HashSet<string> DeclaredNamespaces(Assembly assembly) => assembly.GetTypes()
        .Where(t => t.Namespace is { Length: > 0 } && !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), false)
            && !t.IsDefined(typeof(System.CodeDom.Compiler.GeneratedCodeAttribute), false) && !t.Name.StartsWith('<'))
        .Select(t => t.Namespace!)
        .Where(ns => ns is not ("Microsoft.ML" or "Microsoft.Extensions.DependencyInjection"))
        .ToHashSet(StringComparer.Ordinal);

    [Fact]
    public void TheInferencePackageDoesNotReferenceTorchSharp()
    {
        var project = File.ReadAllText(Path.Combine(TestData.RepoRoot, "src", "Tina.MLNet", "Tina.MLNet.csproj"));
        Assert.DoesNotContain("Include=\"TorchSharp", project);
        Assert.DoesNotContain("ProjectReference", project);
    }

    /// <summary>The Tina assemblies next to the tests (the library, the ML.NET packages, the CLI), not the tests themselves.</summary>
    private static IReadOnlyList<string> TinaAssemblies()
    {
        var dir = Path.GetDirectoryName(typeof(LayeringTests).Assembly.Location)!;
        var files = Directory.GetFiles(dir, "Tina*.dll").Where(f => !Path.GetFileName(f).StartsWith("Tina.Tests", StringComparison.Ordinal)).Order().ToList();
        Assert.Contains(files, f => Path.GetFileName(f) == "Tina.dll");
        Assert.Contains(files, f => Path.GetFileName(f) == "Tina.Cli.dll");
        return files;
    }
}

/// <summary>Uses a Tina.Data type only inside a lambda's body (see <see cref="LayeringTests"/>).</summary>
internal static class LayeringBodyOnly
{
    public static Func<int> Count() => () => new Tina.Data.ImageSet([], []).Count;
}

/// <summary>
/// Which namespace's types use which other namespace's types, in a set of assemblies, with one example pair of types per
/// edge. Only types defined in those assemblies are nodes; references to other assemblies (the framework, TorchSharp)
/// are ignored unless they lead back into the set.
/// </summary>
internal sealed class NamespaceGraph
{
    /// <summary>Edge (from namespace, to namespace) → one (using type, used type) pair.</summary>
    public Dictionary<(string From, string To), (string User, string Used)> Edges { get; } = [];

    /// <summary>
    /// Reads <paramref name="assemblyPaths"/>; <paramref name="include"/> (by full name of a top-level type) limits which
    /// of their types are read, and the types of <paramref name="alsoUsed"/> (assembly names) count as used types too.
    /// </summary>
    public static NamespaceGraph Read(IReadOnlyList<string> assemblyPaths, Func<string, bool>? include = null, IEnumerable<string>? alsoUsed = null)
    {
        var graph = new NamespaceGraph();
        var names = assemblyPaths.Select(p => AssemblyName.GetAssemblyName(p).Name!).Concat(alsoUsed ?? []).ToHashSet(StringComparer.Ordinal);
        // A namespace that two assemblies define would be two folders: it is named with its assembly (the product
        // assemblies share none, EachNamespaceIsDeclaredByOneProductAssembly).
        var shared = assemblyPaths.SelectMany(p =>
            {
                using var pe = new PEReader(File.OpenRead(p));
                var md = pe.GetMetadataReader();
                return md.TypeDefinitions.Select(t => md.GetString(md.GetTypeDefinition(t).Namespace)).Distinct().ToList();
            })
            .GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        string Node(string assembly, string ns) => shared.Contains(ns) ? $"{ns} ({assembly})" : ns;
        foreach (var path in assemblyPaths)
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            new AssemblyWalker(pe, names, graph, include, Node).Walk();
        }
        return graph;
    }

    /// <summary>Every edge, for a failure message.</summary>
    public string Describe() => string.Join("\n", Edges.OrderBy(e => e.Key).Select(e => $"{e.Key.From} → {e.Key.To} ({e.Value.User} uses {e.Value.Used})"));

    /// <summary>
    /// One paragraph per strongly connected set of namespaces: its members, one shortest cycle through it as edges with
    /// their example type pairs, then every other edge inside the set.
    /// </summary>
    public IReadOnlyList<string> Cycles()
    {
        var nodes = Edges.Keys.SelectMany(e => new[] { e.From, e.To }).Distinct().Order(StringComparer.Ordinal).ToList();
        var next = nodes.ToDictionary(n => n, n => Edges.Keys.Where(e => e.From == n && e.To != n).Select(e => e.To).Order(StringComparer.Ordinal).ToList());
        var result = new List<string>();
        foreach (var component in StronglyConnected(nodes, next).Where(c => c.Count > 1))
        {
            var members = component.ToHashSet();
            var start = component.Min(StringComparer.Ordinal)!;
            var cycle = ShortestCycle(start, n => next[n].Where(members.Contains));
            var text = new StringBuilder($"cycle among {string.Join(", ", component.Order(StringComparer.Ordinal))}:\n");
            var cycleEdges = cycle.Zip(cycle.Skip(1)).ToList();
            foreach (var (from, to) in cycleEdges) text.Append(Line(from, to));
            var rest = Edges.Keys.Where(e => e.From != e.To && members.Contains(e.From) && members.Contains(e.To) && !cycleEdges.Contains(e)).Order().ToList();
            if (rest.Count > 0)
            {
                text.Append("  other edges inside it:\n");
                foreach (var (from, to) in rest) text.Append(Line(from, to));
            }
            result.Add(text.ToString());
        }
        return result;
    }

    private string Line(string from, string to) => $"  {from} → {to}  (e.g. {Edges[(from, to)].User} uses {Edges[(from, to)].Used})\n";

    /// <summary>Tarjan's strongly connected components.</summary>
    private static List<List<string>> StronglyConnected(List<string> nodes, Dictionary<string, List<string>> next)
    {
        int counter = 0;
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var components = new List<List<string>>();
        void Visit(string v)
        {
            index[v] = low[v] = counter++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in next[v])
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do
            {
                x = stack.Pop();
                onStack.Remove(x);
                component.Add(x);
            } while (x != v);
            components.Add(component);
        }
        foreach (var n in nodes)
            if (!index.ContainsKey(n)) Visit(n);
        return components;
    }

    /// <summary>The shortest path from <paramref name="start"/> back to itself, as its nodes (first = last = start).</summary>
    private static List<string> ShortestCycle(string start, Func<string, IEnumerable<string>> next)
    {
        var parent = new Dictionary<string, string>();
        var queue = new Queue<string>([start]);
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            foreach (var w in next(v))
            {
                if (w == start)
                {
                    var path = new List<string> { start };
                    for (var x = v; x != start; x = parent[x]) path.Add(x);
                    path.Add(start);
                    path.Reverse();
                    return path;
                }
                if (parent.TryAdd(w, v)) queue.Enqueue(w);
            }
        }
        throw new InvalidOperationException($"{start} is on no cycle.");
    }

    /// <summary>Reads one assembly's type definitions and adds the edges their metadata and IL make.</summary>
    private sealed class AssemblyWalker(PEReader pe, HashSet<string> setAssemblies, NamespaceGraph graph, Func<string, bool>? include, Func<string, string, string> node)
        : ISignatureTypeProvider<string?, object?>
    {
        private readonly MetadataReader _md = pe.GetMetadataReader();
        private string Assembly => _md.GetString(_md.GetAssemblyDefinition().Name);
        private string _user = "";
        private string _userNamespace = "";

        public void Walk()
        {
            foreach (var handle in _md.TypeDefinitions)
            {
                var type = _md.GetTypeDefinition(handle);
                var top = TopLevel(handle);
                var ns = _md.GetString(_md.GetTypeDefinition(top).Namespace);
                if (ns.Length == 0) continue;   // <Module>, <PrivateImplementationDetails>, anonymous types
                _userNamespace = node(Assembly, ns);
                _user = FullName(top);
                if (include is not null && !include(_user)) continue;
                Use(type.BaseType);
                foreach (var i in type.GetInterfaceImplementations()) Use(_md.GetInterfaceImplementation(i).Interface);
                Attributes(type.GetCustomAttributes());
                GenericParameters(type.GetGenericParameters());
                foreach (var f in type.GetFields())
                {
                    var field = _md.GetFieldDefinition(f);
                    field.DecodeSignature(this, null);
                    Attributes(field.GetCustomAttributes());
                }
                foreach (var p in type.GetProperties())
                {
                    var property = _md.GetPropertyDefinition(p);
                    property.DecodeSignature(this, null);
                    Attributes(property.GetCustomAttributes());
                }
                foreach (var e in type.GetEvents()) Use(_md.GetEventDefinition(e).Type);
                foreach (var m in type.GetMethodImplementations()) Use(_md.GetMethodImplementation(m).MethodDeclaration);
                foreach (var m in type.GetMethods()) Method(_md.GetMethodDefinition(m));
            }
        }

        private void Method(MethodDefinition method)
        {
            method.DecodeSignature(this, null);
            Attributes(method.GetCustomAttributes());
            GenericParameters(method.GetGenericParameters());
            foreach (var p in method.GetParameters()) Attributes(_md.GetParameter(p).GetCustomAttributes());
            if (method.RelativeVirtualAddress == 0) return;
            var body = pe.GetMethodBody(method.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil)
                _md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(this, null);
            foreach (var region in body.ExceptionRegions) Use(region.CatchType);
            var il = body.GetILReader();
            while (il.RemainingBytes > 0)
            {
                int code = il.ReadByte();
                if (code == 0xFE) code = 0xFE00 | il.ReadByte();
                switch (Operands[(ushort)code])
                {
                    case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                        Use(MetadataTokens.EntityHandle(il.ReadInt32()));
                        break;
                    case OperandType.InlineSig:
                        _md.GetStandaloneSignature((StandaloneSignatureHandle)MetadataTokens.EntityHandle(il.ReadInt32())).DecodeMethodSignature(this, null);
                        break;
                    case OperandType.InlineSwitch:
                        int targets = il.ReadInt32();   // read first: `Offset += …` would read Offset before the count
                        il.Offset += 4 * targets;
                        break;
                    case OperandType.InlineNone:
                        break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                        il.Offset += 1;
                        break;
                    case OperandType.InlineVar:
                        il.Offset += 2;
                        break;
                    case OperandType.InlineI8 or OperandType.InlineR:
                        il.Offset += 8;
                        break;
                    default:   // InlineBrTarget, InlineI, InlineString, ShortInlineR
                        il.Offset += 4;
                        break;
                }
            }
        }

        private static readonly Dictionary<ushort, OperandType> Operands = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => (ushort)o.Value, o => o.OperandType);

        private void Attributes(CustomAttributeHandleCollection attributes)
        {
            foreach (var a in attributes) Use(_md.GetCustomAttribute(a).Constructor);
        }

        private void GenericParameters(GenericParameterHandleCollection parameters)
        {
            foreach (var p in parameters)
                foreach (var c in _md.GetGenericParameter(p).GetConstraints())
                    Use(_md.GetGenericParameterConstraint(c).Type);
        }

        /// <summary>Records the types a token names: a type, or a member with its declaring type and signature.</summary>
        private void Use(EntityHandle handle)
        {
            if (handle.IsNil) return;
            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    GetTypeFromDefinition(_md, (TypeDefinitionHandle)handle, 0);
                    break;
                case HandleKind.TypeReference:
                    GetTypeFromReference(_md, (TypeReferenceHandle)handle, 0);
                    break;
                case HandleKind.TypeSpecification:
                    _md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null);
                    break;
                case HandleKind.MethodDefinition:
                    var method = _md.GetMethodDefinition((MethodDefinitionHandle)handle);
                    Use(method.GetDeclaringType());
                    method.DecodeSignature(this, null);
                    break;
                case HandleKind.FieldDefinition:
                    var field = _md.GetFieldDefinition((FieldDefinitionHandle)handle);
                    Use(field.GetDeclaringType());
                    field.DecodeSignature(this, null);
                    break;
                case HandleKind.MemberReference:
                    var member = _md.GetMemberReference((MemberReferenceHandle)handle);
                    Use(member.Parent);
                    if (member.GetKind() == MemberReferenceKind.Method) member.DecodeMethodSignature(this, null);
                    else member.DecodeFieldSignature(this, null);
                    break;
                case HandleKind.MethodSpecification:
                    var spec = _md.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Use(spec.Method);
                    spec.DecodeSignature(this, null);
                    break;
            }
        }

        private void Edge(string assembly, string ns, string fullName)
        {
            if (ns.Length > 0 && node(assembly, ns) is var to && to != _userNamespace) graph.Edges.TryAdd((_userNamespace, to), (_user, fullName));
        }

        private TypeDefinitionHandle TopLevel(TypeDefinitionHandle handle)
        {
            while (_md.GetTypeDefinition(handle).GetDeclaringType() is { IsNil: false } outer) handle = outer;
            return handle;
        }

        private string FullName(TypeDefinitionHandle handle)
        {
            var t = _md.GetTypeDefinition(handle);
            return $"{_md.GetString(t.Namespace)}.{_md.GetString(t.Name)}";
        }

        public string? GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            var top = TopLevel(handle);
            var name = FullName(top);
            Edge(Assembly, _md.GetString(_md.GetTypeDefinition(top).Namespace), name);
            return name;
        }

        public string? GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            var r = _md.GetTypeReference(handle);
            while (r.ResolutionScope.Kind == HandleKind.TypeReference) r = _md.GetTypeReference((TypeReferenceHandle)r.ResolutionScope);
            var ns = _md.GetString(r.Namespace);
            var name = $"{ns}.{_md.GetString(r.Name)}";
            // Only types of the assemblies read are nodes (a type of this module is a definition, not a reference).
            if (r.ResolutionScope.Kind == HandleKind.AssemblyReference
                && _md.GetString(_md.GetAssemblyReference((AssemblyReferenceHandle)r.ResolutionScope).Name) is var assembly && setAssemblies.Contains(assembly))
                Edge(assembly, ns, name);
            return name;
        }

        public string? GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            _md.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public string? GetGenericInstantiation(string? genericType, ImmutableArray<string?> typeArguments) => genericType;
        public string? GetArrayType(string? elementType, ArrayShape shape) => elementType;
        public string? GetByReferenceType(string? elementType) => elementType;
        public string? GetPointerType(string? elementType) => elementType;
        public string? GetSZArrayType(string? elementType) => elementType;
        public string? GetPinnedType(string? elementType) => elementType;
        public string? GetModifiedType(string? modifier, string? unmodifiedType, bool isRequired) => unmodifiedType;
        public string? GetPrimitiveType(PrimitiveTypeCode typeCode) => null;
        public string? GetFunctionPointerType(MethodSignature<string?> signature) => null;
        public string? GetGenericMethodParameter(object? genericContext, int index) => null;
        public string? GetGenericTypeParameter(object? genericContext, int index) => null;
    }
}
