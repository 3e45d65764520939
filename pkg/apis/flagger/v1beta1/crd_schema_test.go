package v1beta1

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// TestCRDSchemasMatchGoTypes walks each Go type and its CRD schema side by
// side, so that a field added to one and not the other fails here even if
// nobody ran hack/update-codegen.sh.
func TestCRDSchemasMatchGoTypes(t *testing.T) {
	crds := loadCRDs(t)
	for plural, obj := range map[string]any{
		"canaries":        Canary{},
		"metrictemplates": MetricTemplate{},
		"alertproviders":  AlertProvider{},
	} {
		t.Run(plural, func(t *testing.T) {
			crd, ok := crds[plural+".flagger.app"]
			require.True(t, ok, "artifacts/flagger/crd.yaml has no CRD for %s", plural)
			require.Len(t, crd.Spec.Versions, 1)
			version := crd.Spec.Versions[0]
			assert.Equal(t, "v1beta1", version.Name)
			assert.NotNil(t, version.Subresources.Status, "status subresource")
			assert.Contains(t, crd.Spec.Names.Categories, "all")
			schema := version.Schema.OpenAPIV3Schema
			typ := reflect.TypeOf(obj)
			for _, field := range []string{"spec", "status"} {
				f, ok := fieldByJSONName(typ, field)
				require.True(t, ok)
				compareSchema(t, field, f.Type, schema.Properties[field])
			}
		})
	}
}

func loadCRDs(t *testing.T) map[string]apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	f, err := os.Open("../../../../artifacts/flagger/crd.yaml")
	require.NoError(t, err)
	defer f.Close()
	crds := map[string]apiextensionsv1.CustomResourceDefinition{}
	decoder := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := decoder.Decode(&crd); err != nil {
			break
		}
		if crd.Name != "" {
			crds[crd.Name] = crd
		}
	}
	return crds
}

var (
	timeType        = reflect.TypeOf(metav1.Time{})
	intOrStringType = reflect.TypeOf(intstr.IntOrString{})
	jsonType        = reflect.TypeOf(apiextensionsv1.JSON{})
)

func compareSchema(t *testing.T, path string, typ reflect.Type, schema apiextensionsv1.JSONSchemaProps) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case typ == timeType:
		assert.Equal(t, "string", schema.Type, path)
		return
	case typ == intOrStringType:
		assert.True(t, schema.XIntOrString, "%s: x-kubernetes-int-or-string", path)
		return
	case typ == jsonType:
		assert.True(t, schema.XPreserveUnknownFields != nil && *schema.XPreserveUnknownFields,
			"%s: x-kubernetes-preserve-unknown-fields", path)
		return
	}
	switch typ.Kind() {
	case reflect.Struct:
		assert.Equal(t, "object", schema.Type, path)
		fields := jsonFields(typ)
		for name, field := range fields {
			sub, ok := schema.Properties[name]
			if assert.True(t, ok, "%s.%s is in the Go type but not in the CRD", path, name) {
				compareSchema(t, path+"."+name, field.Type, sub)
			}
		}
		for name := range schema.Properties {
			_, ok := fields[name]
			assert.True(t, ok, "%s.%s is in the CRD but not in the Go type", path, name)
		}
	case reflect.Map:
		assert.Equal(t, "object", schema.Type, path)
		if assert.NotNil(t, schema.AdditionalProperties, "%s: additionalProperties", path) {
			compareSchema(t, path+"[*]", typ.Elem(), *schema.AdditionalProperties.Schema)
		}
	case reflect.Slice:
		assert.Equal(t, "array", schema.Type, path)
		if assert.NotNil(t, schema.Items, "%s: items", path) {
			compareSchema(t, path+"[]", typ.Elem(), *schema.Items.Schema)
		}
	case reflect.String:
		assert.Equal(t, "string", schema.Type, path)
	case reflect.Bool:
		assert.Equal(t, "boolean", schema.Type, path)
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint32:
		assert.Equal(t, "integer", schema.Type, path)
	case reflect.Float64:
		assert.Equal(t, "number", schema.Type, path)
	default:
		t.Errorf("%s: unexpected Go kind %s", path, typ.Kind())
	}
}

// jsonFields returns the serialised fields of a struct by JSON name, with
// inlined structs flattened.
func jsonFields(typ reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") || (name == "" && f.Anonymous) {
			for n, sub := range jsonFields(f.Type) {
				fields[n] = sub
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f
	}
	return fields
}

func fieldByJSONName(typ reflect.Type, name string) (reflect.StructField, bool) {
	f, ok := jsonFields(typ)[name]
	return f, ok
}
