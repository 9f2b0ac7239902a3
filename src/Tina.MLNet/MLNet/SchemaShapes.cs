using Microsoft.ML;
using Microsoft.ML.Data;

namespace Tina.MLNet;

/// <summary>
/// The <see cref="SchemaShape"/> of a <see cref="DataViewSchema"/>, through ML.NET's public API: ML.NET converts a
/// loader's schema to a shape when a loader starts a pipeline (<c>loader.Append(estimator).GetOutputSchema()</c>),
/// while its direct conversion and the constructor of <see cref="SchemaShape.Column"/> are internal. The shape keeps
/// the visible columns with their kind, item type, key flag and annotations, as ML.NET's estimators report them.
/// </summary>
internal static class SchemaShapes
{
    /// <summary>The shape of <paramref name="schema"/>.</summary>
    public static SchemaShape Of(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return new SchemaOnly(schema).Append(new EstimatorChain<ITransformer>()).GetOutputSchema();
    }

    /// <summary>A loader that has a schema and nothing to load: it is only asked for its schema.</summary>
    private sealed class SchemaOnly(DataViewSchema schema) : IDataLoader<SchemaOnly.NoSource>
    {
        /// <summary>The source type, never instantiated.</summary>
        public sealed class NoSource
        {
            private NoSource() { }
        }

        public DataViewSchema GetOutputSchema() => schema;

        public IDataView Load(NoSource input) => throw new NotSupportedException("This loader only describes a schema.");

        void ICanSaveModel.Save(ModelSaveContext ctx) => throw new NotSupportedException("This loader only describes a schema.");
    }
}
