package tabspace

import "errors"

func Get(b []byte) ([]byte, error, error) {
	// gofail: var x struct{}
	//	 return b, nil, errors.New("x")
	_ = b
	// gofail: var y string
	// if y != "" {
	//	  return nil, nil, errors.New(y)
	// }
	return b, nil, nil
}
